//! Prism (`@stoplight/prism-cli`, installed by `scripts/local-swarm all`) serving Gitea's
//! official OpenAPI description: every request it receives is validated against the spec, and
//! one the spec rejects gets an error answer (`--errors`). As a mock it answers with the spec's
//! examples; as a proxy it forwards to a forge double and validates the double's answers too.
//! Tests built on it check ccci's requests, not a forge's behaviour: they are named so.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long Prism may take to start (measured: 4.6 s).
const STARTS: Duration = Duration::from_secs(60);

/// A running Prism; stopped when dropped.
pub struct Prism {
    child: Child,
    /// Its base URL (paths without Gitea's `/api/v1`: Prism serves them at the root).
    pub url: String,
    port: u16,
    args: Vec<String>,
}

/// Gitea's OpenAPI description (`../shared/forge/` beside this repository), or a failure
/// naming where it was looked for.
pub fn gitea_spec() -> PathBuf {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/forge/gitea-1.27.1.swagger.v1.json");
    assert!(
        spec.is_file(),
        "Gitea's OpenAPI description is not at {} (the forge tests read it from ../shared/forge beside this repository)",
        spec.display()
    );
    spec
}

fn binary() -> PathBuf {
    let prism = std::env::var_os(ccci_core::vars::PRISM)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/ccci/prism/node_modules/.bin/prism"));
    assert!(
        prism.is_file(),
        "no Prism at {}: run scripts/local-swarm all (it installs it from npm), or set {} to a prism binary",
        prism.display(),
        ccci_core::vars::PRISM
    );
    prism
}

/// A free port on 127.0.0.1, now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Prism {
    /// Prism mocking Gitea: validates each request, answers with the spec's examples.
    pub fn mock() -> Prism {
        Prism::start(&["mock", "--errors"], None)
    }

    /// Prism mocking Gitea under the spec's own base path, `/api/v1`, as a forge serves it
    /// (Prism serves a swagger 2 description's paths at the root otherwise): for callers that
    /// write the API's URL as `<forge>/api/v1`.
    pub fn mock_under_base_path(dir: &Path) -> Prism {
        let text = std::fs::read_to_string(gitea_spec()).expect("the spec reads");
        let mut spec: serde_json::Value = serde_json::from_str(&text).expect("the spec is JSON");
        let base = spec["basePath"].as_str().unwrap_or("").to_string();
        let paths = spec["paths"]
            .as_object()
            .expect("the spec has paths")
            .clone();
        spec["paths"] = paths
            .into_iter()
            .map(|(k, v)| (format!("{base}{k}"), v))
            .collect::<serde_json::Map<_, _>>()
            .into();
        let copy = dir.join("gitea-under-base-path.json");
        std::fs::write(&copy, spec.to_string()).expect("the spec's copy");
        Prism::start_with(&["mock", "--errors"], &copy, None)
    }

    /// Prism in front of `upstream` (a forge double): validates each request and each
    /// answer, forwarding what is valid.
    pub fn proxy(upstream: &str) -> Prism {
        Prism::start(&["proxy", "--errors"], Some(upstream))
    }

    fn start(mode: &[&str], upstream: Option<&str>) -> Prism {
        Prism::start_with(mode, &gitea_spec(), upstream)
    }

    fn start_with(mode: &[&str], spec: &Path, upstream: Option<&str>) -> Prism {
        let port = free_port();
        let mut args: Vec<String> = mode.iter().map(|s| s.to_string()).collect();
        args.push(spec.display().to_string());
        args.extend(upstream.map(String::from));
        args.extend(["-h", "127.0.0.1", "-p"].map(String::from));
        args.push(port.to_string());
        let child = spawn(&args);
        let mut p = Prism {
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
            args,
        };
        p.wait_up();
        p
    }

    /// Stops it (the forge goes away).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port (the forge comes back).
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn(&self.args);
        self.wait_up();
    }

    fn wait_up(&mut self) {
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "prism {} exited {status} before it listened",
                    self.args.join(" ")
                );
            }
            assert!(
                started.elapsed() < STARTS,
                "prism did not listen within {} s",
                STARTS.as_secs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn spawn(args: &[String]) -> Child {
    Command::new(binary())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prism starts")
}

impl Drop for Prism {
    fn drop(&mut self) {
        self.stop();
    }
}
