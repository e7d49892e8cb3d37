//! The CI engine examples (examples/woodpecker, examples/forgejo-actions) do what they say:
//! each is read as its engine reads it, its script run as the engine would run it (its
//! variables and expressions filled in) on a real recipe repository with a pull request's
//! head, a real run on the local Swarm, and its report posted through `cargo ccci report
//! --post` to Prism serving Gitea's OpenAPI description under its base path (contract: the
//! requests are the spec's; no forge server can be had here). The step exits by the verdict.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn yaml(rel: &str) -> serde_yaml_ng::Value {
    let path = workspace().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `script` with bash as both engines do (`-e`), with `env`, and `cargo ccci` found on
/// PATH (this build's cargo-ccci); its exit code and output.
fn run_script(script: &str, env: &BTreeMap<&str, String>) -> (i32, String) {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_cargo-ccci"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-e", "-c", script])
        .env_remove("CCCI_RESULTS_FILE")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PATH", path)
        .env("CCCI_ROUTING", "host-port")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// A recipe checkout as a CI engine has it (a directory named as the repository):
/// custom-html's releases and a pull request on top.
fn checkout(dir: &Path) -> (PathBuf, String) {
    let work = dir.join("custom-html");
    let head = ccci_testkit::release_repository("custom-html", &work);
    (work, head)
}

/// The run was red (generic tiers: custom-html declares no functional skip), so the step
/// that ran it exits 1; the report step posted it, the forge taking every request.
fn assert_ran_and_posted(ran: (i32, String), reported: (i32, String)) {
    let (code, said) = ran;
    assert_eq!(code, 1, "the run's step exits by the verdict (red): {said}");
    let (code, said) = reported;
    assert!(
        said.contains("cargo ccci report: posted L"),
        "the report was posted: {said}"
    );
    assert_eq!(code, 0, "the report step posted: {said}");
}

/// The step that runs the head: untrusted, and without the forge's token.
fn assert_head_step_holds_nothing(script: &str, env: &[String]) {
    assert!(
        script.contains("cargo ccci run --untrusted"),
        "the head runs untrusted: {script}"
    );
    assert!(
        env.iter().all(|v| !v.contains("FORGE_TOKEN")),
        "the step running the head has no token: {env:?}"
    );
}

#[test]
fn the_woodpecker_pipeline_runs_the_pull_request_and_posts_its_verdict() {
    let doc = yaml("examples/woodpecker/.woodpecker/ccci.yml");
    assert_eq!(doc["when"][0]["event"], "pull_request");
    assert_eq!(
        doc["clone"]["git"]["settings"]["tags"], true,
        "the releases' tags are cloned"
    );
    let step = |name: &str| -> (String, &serde_yaml_ng::Value) {
        let step = doc["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("the `{name}` step"));
        let commands: Vec<&str> = step["commands"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        (commands.join("\n"), &step["environment"])
    };
    let (run, run_env) = step("ccci");
    let run_env: Vec<String> = run_env
        .as_mapping()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k:?}={v:?}"))
        .collect();
    assert_head_step_holds_nothing(&run, &run_env);
    let (report, report_env) = step("report");
    assert_eq!(
        report_env["CCCI_FORGE_TOKEN"]["from_secret"],
        "ccci_forge_token"
    );
    let tmp = tempfile::tempdir().unwrap();
    let (work, head) = checkout(tmp.path());
    let forge = ccci_testkit::prism::Prism::mock_under_base_path(tmp.path());
    let mut env = BTreeMap::from([
        ("CI_WORKSPACE", work.display().to_string()),
        ("CI_COMMIT_SHA", head),
        ("CI_FORGE_URL", forge.url.clone()),
        ("CI_REPO", "coop-cloud/custom-html".into()),
        ("CI_COMMIT_PULL_REQUEST", "1".into()),
        (
            "CI_PIPELINE_URL",
            "https://ci.example.org/repos/1/pipeline/7".into(),
        ),
    ]);
    let ran = run_script(&run, &env);
    env.insert("CCCI_FORGE_TOKEN", "a-token".into());
    assert_ran_and_posted(ran, run_script(&report, &env));
}

#[test]
fn the_forgejo_actions_workflow_runs_the_pull_request_and_posts_its_verdict() {
    let doc = yaml("examples/forgejo-actions/.forgejo/workflows/ccci.yml");
    // The base branch's workflow, on a maintainer's label: a head cannot change its gate.
    assert_eq!(
        doc["on"]["pull_request_target"]["types"][0], "labeled",
        "runs on a maintainer's label"
    );
    assert!(doc["on"]["pull_request"].is_null(), "not on every push");
    let job = &doc["jobs"]["ccci"];
    assert!(
        job["if"]
            .as_str()
            .unwrap_or("")
            .contains("github.event.label.name"),
        "the job runs for ccci's label only"
    );
    let steps = job["steps"].as_sequence().unwrap();
    assert_eq!(
        steps[0]["with"]["fetch-depth"], 0,
        "the releases' tags are fetched"
    );
    let step = |name: &str| {
        steps
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("the `{name}` step"))
    };
    let tmp = tempfile::tempdir().unwrap();
    let (work, head) = checkout(tmp.path());
    let forge = ccci_testkit::prism::Prism::mock_under_base_path(tmp.path());
    // What Forgejo fills `${{ … }}` with for a pull request.
    let context = BTreeMap::from([
        ("github.workspace", work.display().to_string()),
        ("github.event.pull_request.head.sha", head),
        ("github.event.pull_request.number", "1".to_string()),
        ("github.server_url", forge.url.clone()),
        ("github.repository", "coop-cloud/custom-html".to_string()),
        ("github.run_number", "7".to_string()),
        ("secrets.CCCI_FORGE_TOKEN", "a-token".to_string()),
    ]);
    let fill = |text: &str| -> String {
        let mut out = text.to_string();
        while let Some(start) = out.find("${{") {
            let end = out[start..].find("}}").expect("a closed expression") + start;
            let key = out[start + 3..end].trim().to_string();
            let value = context.get(key.as_str()).unwrap_or_else(|| panic!("the workflow uses `{key}`, which a pull request's context has no value for here"));
            out.replace_range(start..end + 2, value);
        }
        out
    };
    let script_and_env = |name: &str| {
        let step = step(name);
        let env: BTreeMap<&str, String> = step["env"]
            .as_mapping()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str().unwrap(), fill(v.as_str().unwrap())))
            .collect();
        (step["run"].as_str().unwrap().to_string(), env)
    };
    let (run, run_env) = script_and_env("ccci");
    let raw_env: Vec<String> = step("ccci")["env"]
        .as_mapping()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k:?}={v:?}"))
        .collect();
    assert_head_step_holds_nothing(&run, &raw_env);
    let (report, report_env) = script_and_env("report");
    assert!(
        step("report")["if"]
            .as_str()
            .unwrap_or("")
            .contains("failure()"),
        "a red run is reported too"
    );
    let ran = run_script(&fill(&run), &run_env);
    assert_ran_and_posted(ran, run_script(&fill(&report), &report_env));
}
