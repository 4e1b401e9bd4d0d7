//! A fake of the few GitHub REST endpoints the Action uses, on 127.0.0.1: one repository
//! (`o/r`), one pull request (#7) with a body and a head commit, and its issue comments.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::{Request, Response, Server};

pub const REPOSITORY: &str = "o/r";
pub const NUMBER: u64 = 7;
pub const TOKEN: &str = "test-token";

#[derive(Default)]
pub struct State {
    pub body: Option<String>,
    pub head_sha: String,
    /// (id, body, author)
    pub comments: Vec<(u64, String, String)>,
    pub next_id: u64,
    /// Answer every request with this status instead (e.g. 403, a read-only token).
    pub refuse: Option<u16>,
}

pub struct FakeGitHub {
    pub server: Server,
    pub state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    pub fn start(state: State) -> FakeGitHub {
        let state = Arc::new(Mutex::new(State {
            next_id: state.next_id.max(1000),
            ..state
        }));
        let shared = Arc::clone(&state);
        let server = Server::start(move |req| answer(&mut shared.lock().unwrap(), req));
        FakeGitHub { server, state }
    }

    /// The bodies of the pull request's comments, oldest first.
    pub fn comments(&self) -> Vec<(u64, String)> {
        let state = self.state.lock().unwrap();
        state
            .comments
            .iter()
            .map(|(id, body, _)| (*id, body.clone()))
            .collect()
    }

    /// The requests that changed something: (method, path).
    pub fn writes(&self) -> Vec<(String, String)> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .map(|r| (r.method, r.path))
            .collect()
    }
}

fn comment_json(id: u64, body: &str, author: &str) -> Value {
    json!({"id": id, "body": body, "user": {"login": author}})
}

fn answer(state: &mut State, req: &Request) -> Response {
    if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
        return Response::json(401, &json!({"message": "Bad credentials"}));
    }
    if let Some(status) = state.refuse {
        return Response::json(
            status,
            &json!({"message": "Resource not accessible by integration"}),
        );
    }
    let (path, query) = req.path.split_once('?').unwrap_or((&req.path, ""));
    let prefix = format!("/repos/{REPOSITORY}");
    let Some(rest) = path.strip_prefix(&prefix) else {
        return Response::not_found();
    };
    let pulls = format!("/pulls/{NUMBER}");
    let issue_comments = format!("/issues/{NUMBER}/comments");
    match (req.method.as_str(), rest) {
        ("GET", p) if p == pulls => Response::json(
            200,
            &json!({"number": NUMBER, "body": state.body, "head": {"sha": state.head_sha}}),
        ),
        ("GET", p) if p == issue_comments => {
            let param = |name: &str| -> usize {
                query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            let per_page = param("per_page").clamp(1, 100);
            let page = param("page").max(1);
            let list: Vec<Value> = state
                .comments
                .iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .map(|(id, body, author)| comment_json(*id, body, author))
                .collect();
            Response::json(200, &Value::Array(list))
        }
        ("POST", p) if p == issue_comments => {
            let body = request_body(req);
            state.next_id += 1;
            let id = state.next_id;
            state
                .comments
                .push((id, body.clone(), "github-actions[bot]".into()));
            Response::json(201, &comment_json(id, &body, "github-actions[bot]"))
        }
        (method @ ("PATCH" | "DELETE"), p) => {
            let Some(id) = p
                .strip_prefix("/issues/comments/")
                .and_then(|id| id.parse::<u64>().ok())
            else {
                return Response::not_found();
            };
            let Some(at) = state.comments.iter().position(|c| c.0 == id) else {
                return Response::not_found();
            };
            if method == "DELETE" {
                state.comments.remove(at);
                return Response::new(204, "");
            }
            state.comments[at].1 = request_body(req);
            let (id, body, author) = &state.comments[at];
            Response::json(200, &comment_json(*id, body, author))
        }
        _ => Response::not_found(),
    }
}

fn request_body(req: &Request) -> String {
    let value: Value = serde_json::from_str(&req.body).expect("a JSON request body");
    value["body"].as_str().expect("a body field").to_string()
}
