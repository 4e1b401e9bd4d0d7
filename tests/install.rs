//! scripts/install.sh, which action.yml runs to install a released binary, against a fake
//! release served from a temp dir on 127.0.0.1: a good checksum installs, a bad one installs
//! nothing and exits 2, a missing archive exits 3 (the Action then builds from source).

mod http;

use std::path::{Path, PathBuf};
use std::process::Command;

use http::{Response, Server};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/install.sh");
const TARGET: &str = "x86_64-unknown-linux-musl";
const ASSET: &str = "forewarn-x86_64-unknown-linux-musl.tar.gz";

/// The tools the script needs; a test without them says so and passes (.ci/run installs them).
fn tools_missing() -> bool {
    let missing: Vec<&str> = [
        ("curl or wget", http::have("curl") || http::have("wget")),
        (
            "sha256sum or shasum",
            http::have("sha256sum") || http::have("shasum"),
        ),
        ("tar", http::have("tar")),
    ]
    .into_iter()
    .filter(|(_, present)| !present)
    .map(|(name, _)| name)
    .collect();
    if !missing.is_empty() {
        eprintln!(
            "skipped: scripts/install.sh needs {} (install them to run this test)",
            missing.join(", ")
        );
    }
    !missing.is_empty()
}

/// A fake release in a temp dir: `<root>/v9.9.9/<ASSET>` holding a `forewarn` script, and
/// `SHA256SUMS` from `sums` (given the real checksum).
struct Release {
    root: tempfile::TempDir,
    server: Server,
}

fn sha256(path: &Path) -> String {
    let out = if http::have("sha256sum") {
        Command::new("sha256sum").arg(path).output()
    } else {
        Command::new("shasum")
            .args(["-a", "256"])
            .arg(path)
            .output()
    }
    .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

fn release(sums: impl Fn(&str) -> Option<String>) -> Release {
    let root = tempfile::tempdir().unwrap();
    let stage = root.path().join("stage");
    std::fs::create_dir(&stage).unwrap();
    let bin = stage.join("forewarn");
    std::fs::write(
        &bin,
        "#!/bin/sh\necho \"forewarn 9.9.9 (fake release) $*\"\n",
    )
    .unwrap();
    let dir = root.path().join("v9.9.9");
    std::fs::create_dir(&dir).unwrap();
    let status = Command::new("tar")
        .arg("-C")
        .arg(&stage)
        .arg("-czf")
        .arg(dir.join(ASSET))
        .arg("forewarn")
        .status()
        .unwrap();
    assert!(status.success());
    if let Some(text) = sums(&sha256(&dir.join(ASSET))) {
        std::fs::write(dir.join("SHA256SUMS"), text).unwrap();
    }
    let served = root.path().to_path_buf();
    let server = Server::start(move |req| {
        let Some(rel) = req.path.strip_prefix("/releases/download/") else {
            return Response::not_found();
        };
        if req.method != "GET" || rel.contains("..") {
            return Response::not_found();
        }
        match std::fs::read(served.join(rel)) {
            Ok(bytes) => Response::new(200, bytes),
            Err(_) => Response::not_found(),
        }
    });
    Release { root, server }
}

struct Installed {
    code: i32,
    stderr: String,
    dir: PathBuf,
}

fn install(release: &Release, version: &str, downloader: Option<&str>) -> Installed {
    let dir = release.root.path().join("bin");
    let mut cmd = Command::new("bash");
    cmd.arg(SCRIPT)
        .env("FOREWARN_VERSION", version)
        .env("FOREWARN_INSTALL_DIR", &dir)
        .env("FOREWARN_TARGET", TARGET)
        .env(
            "FOREWARN_RELEASE_BASE_URL",
            format!("{}/releases/download", release.server.url),
        )
        .env("TMPDIR", release.root.path());
    match downloader {
        Some(tool) => cmd.env("FOREWARN_DOWNLOADER", tool),
        None => cmd.env_remove("FOREWARN_DOWNLOADER"),
    };
    let out = http::no_proxy(&mut cmd).output().expect("bash runs");
    Installed {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        dir,
    }
}

fn good_sums(sum: &str) -> Option<String> {
    Some(format!(
        "{}  forewarn-aarch64-apple-darwin.tar.gz\n{sum}  {ASSET}\n",
        "0".repeat(64)
    ))
}

#[test]
fn a_good_checksum_installs_a_binary_that_runs() {
    if tools_missing() {
        return;
    }
    let release = release(good_sums);
    let mut downloaders = vec![None];
    for tool in ["curl", "wget"] {
        if http::have(tool) {
            downloaders.push(Some(tool));
        }
    }
    for downloader in downloaders {
        let _ = std::fs::remove_dir_all(release.root.path().join("bin"));
        let run = install(&release, "v9.9.9", downloader);
        assert_eq!(run.code, 0, "{downloader:?}: {}", run.stderr);
        assert!(run.stderr.contains("matches SHA256SUMS"), "{}", run.stderr);
        let out = Command::new(run.dir.join("forewarn"))
            .arg("--version")
            .output()
            .expect("the installed binary runs");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "forewarn 9.9.9 (fake release) --version\n"
        );
        // Only the binary is left in the folder: no partial file, no archive.
        let names: Vec<_> = std::fs::read_dir(&run.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["forewarn"], "{downloader:?}");
    }
    let paths: Vec<String> = release
        .server
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert!(
        paths.contains(&format!("/releases/download/v9.9.9/{ASSET}")),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"/releases/download/v9.9.9/SHA256SUMS".to_string()),
        "{paths:?}"
    );
    // A version without its `v` names the same release.
    let _ = std::fs::remove_dir_all(release.root.path().join("bin"));
    assert_eq!(install(&release, "9.9.9", None).code, 0);
}

#[test]
fn a_checksum_mismatch_installs_nothing_and_says_so() {
    if tools_missing() {
        return;
    }
    let release = release(|_| good_sums(&"ab".repeat(32)));
    let run = install(&release, "v9.9.9", None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("checksum mismatch"), "{}", run.stderr);
    assert!(run.stderr.contains(ASSET), "{}", run.stderr);
    assert!(run.stderr.contains(&"ab".repeat(32)), "{}", run.stderr);
    assert!(!run.dir.join("forewarn").exists(), "nothing is installed");
}

#[test]
fn an_archive_the_checksums_do_not_list_is_refused() {
    if tools_missing() {
        return;
    }
    for (sums, says) in [
        (None, "SHA256SUMS could not be downloaded"),
        (
            Some(format!("{}  forewarn-other.tar.gz\n", "0".repeat(64))),
            "no single checksum",
        ),
    ] {
        let release = release(|_| sums.clone());
        let run = install(&release, "v9.9.9", None);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains(says), "{}", run.stderr);
        assert!(!run.dir.join("forewarn").exists());
    }
}

#[test]
fn no_release_for_the_version_asks_for_a_source_build() {
    if tools_missing() {
        return;
    }
    let release = release(good_sums);
    let run = install(&release, "v8.8.8", None);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("no release archive"), "{}", run.stderr);
    assert!(run.stderr.contains("build from source"), "{}", run.stderr);
    assert!(!run.dir.join("forewarn").exists());
    // Nothing listens: the same answer, not a failure of the job.
    let mut cmd = Command::new("bash");
    cmd.arg(SCRIPT)
        .env("FOREWARN_VERSION", "9.9.9")
        .env("FOREWARN_INSTALL_DIR", release.root.path().join("bin"))
        .env("FOREWARN_TARGET", TARGET)
        .env("FOREWARN_RELEASE_BASE_URL", "http://127.0.0.1:9/releases");
    let out = http::no_proxy(&mut cmd).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn a_version_that_is_not_one_is_refused_before_any_download() {
    if tools_missing() {
        return;
    }
    let release = release(good_sums);
    let run = install(&release, "1.0/../../x", None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is not a version"), "{}", run.stderr);
    assert!(release.server.requests().is_empty());
}

#[test]
fn the_target_is_named_like_the_release_assets() {
    let out = Command::new("bash")
        .arg(SCRIPT)
        .arg("target")
        .output()
        .unwrap();
    let target = String::from_utf8(out.stdout).unwrap();
    let workflow = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.github/workflows/release.yml"
    ))
    .unwrap();
    if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        assert_eq!(target, "x86_64-unknown-linux-musl\n");
    }
    assert!(
        workflow.contains(&format!("target: {}", target.trim())),
        "{target} is built by release.yml"
    );
}
