//! Contract tests of the forge client: every request it sends goes to Prism serving Gitea's
//! official OpenAPI description (1.27.1), which validates it and answers with the spec's
//! examples (`--errors`: a request the spec rejects gets an error, and the call fails the
//! test). They check ccci's requests and its reading of spec-shaped answers, not a forge's
//! behaviour.

use ccci_forge::{Forge, StatusState};
use ccci_testkit::prism::Prism;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn contract_every_call_the_client_makes_is_one_the_gitea_spec_takes() {
    let prism = Prism::mock();
    let forge = Forge::new(&prism.url, "a-token").unwrap();
    let repo = "coop-cloud/custom-html";
    rt().block_on(async {
        forge.permission(repo, "alice").await.expect("permission");
        forge.pull(repo, 7).await.expect("pull request");
        forge.react(repo, 42, "eyes").await.expect("reaction");
        for state in [
            StatusState::Pending,
            StatusState::Success,
            StatusState::Failure,
            StatusState::Error,
        ] {
            forge
                .status(
                    repo,
                    "0123456789abcdef0123456789abcdef01234567",
                    state,
                    "ccci/testme",
                    "L4 GREEN",
                    "https://ci.example/runs/1",
                )
                .await
                .unwrap_or_else(|e| panic!("status {state:?}: {e}"));
        }
        forge
            .comment(repo, 7, "### ✅ ccci: custom-html reached **L4**")
            .await
            .expect("comment");
        forge
            .edit_comment(repo, 42, "### ❌ ccci: custom-html reached **L3**")
            .await
            .expect("edit");
        forge.comments(repo, 7).await.expect("comments");
        forge.me().await.expect("the token's own account");
    });
}

/// The contract has teeth: Prism refuses what the spec does not allow.
#[test]
fn contract_prism_refuses_what_the_spec_rejects() {
    let prism = Prism::mock();
    rt().block_on(async {
        let http = reqwest::Client::new();
        let post = |body: serde_json::Value, token: bool| {
            let mut req = http
                .post(format!("{}/repos/o/r/statuses/abc", prism.url))
                .json(&body);
            if token {
                req = req.header("Authorization", "token t");
            }
            req.send()
        };
        let bad_state = post(
            serde_json::json!({"state": "running", "context": "c"}),
            true,
        )
        .await
        .unwrap();
        assert!(
            bad_state.status().is_client_error(),
            "a state the spec does not list: {}",
            bad_state.status()
        );
        let no_token = post(serde_json::json!({"state": "pending"}), false)
            .await
            .unwrap();
        assert_eq!(no_token.status().as_u16(), 401, "no token");
    });
}
