//! An object removed from a folder that stays is removed; one removed with everything around it
//! is retired with its app (issue 19). The folder's other files need not be part of the change:
//! a disruption budget deleted alone, beside an unchanged Deployment, is the common case.

mod util;

use util::Repo;

const DEPLOYMENT: &str =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n";

const PDB: &str = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app: web\n";

fn pdb_removed(repo: &Repo) -> bool {
    repo.remove("deploy/pdb.yaml");
    repo.commit("remove the disruption budget");
    repo.head_findings()
        .iter()
        .any(|f| f["rule_id"] == "k8s-pdb-removed")
}

#[test]
fn a_budget_deleted_alone_is_removed_and_one_deleted_with_its_whole_folder_is_retired() {
    // The Deployment beside it is not part of the change: the folder still holds it.
    let repo = Repo::new();
    repo.write("deploy/deployment.yaml", DEPLOYMENT);
    repo.write("deploy/pdb.yaml", PDB);
    repo.commit("web");
    assert!(pdb_removed(&repo));
    // The whole folder goes: the app is retired, its budget with it.
    let repo = Repo::new();
    repo.write("deploy/deployment.yaml", DEPLOYMENT);
    repo.write("deploy/pdb.yaml", PDB);
    repo.commit("web");
    repo.remove("deploy/deployment.yaml");
    assert!(!pdb_removed(&repo));
    // Only the folder's other deploy files count: a README left behind retires nothing.
    let repo = Repo::new();
    repo.write("deploy/deployment.yaml", DEPLOYMENT);
    repo.write("deploy/pdb.yaml", PDB);
    repo.write("deploy/README.md", "web\n");
    repo.commit("web");
    repo.remove("deploy/deployment.yaml");
    assert!(!pdb_removed(&repo));
}
