//! Fixtures: what a recipe test can ask for by naming it as a parameter.

use ccci_abra::Snapshot;
use ccci_core::{HookCtx, OpState};
use ccci_swarm::{ExecOutput, Swarm};
use std::sync::Arc;

/// A value a recipe test can take as `&T`. The runner builds each once per run.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a ccci fixture",
    label = "a ccci test cannot ask for this",
    note = "a ccci test or hook can take `&HookCtx`, `&OpState`, `&Stack`, `&Http`, `&Browser` and `&Snapshot`"
)]
pub trait Fixture {
    /// This fixture from the run's set, or why it is not available.
    fn get(fx: &Fixtures) -> crate::outcome::Result<&Self>;
}

/// The fixtures of one step of a run (the context carries the step's op; the snapshot is
/// there from the backup on).
pub struct Fixtures {
    pub(crate) ctx: HookCtx,
    pub(crate) op_state: Arc<OpState>,
    pub(crate) stack: Stack,
    pub(crate) http: Option<Http>,
    pub(crate) browser: Option<crate::Browser>,
    pub(crate) snapshot: Option<Snapshot>,
}

impl Fixture for Snapshot {
    fn get(fx: &Fixtures) -> crate::outcome::Result<&Self> {
        fx.snapshot.as_ref().ok_or_else(|| "no backup has been taken yet: `&Snapshot` is there in backup_verify and from `after = backup` on".into())
    }
}

impl Fixture for HookCtx {
    fn get(fx: &Fixtures) -> crate::outcome::Result<&Self> {
        Ok(&fx.ctx)
    }
}

impl Fixture for OpState {
    fn get(fx: &Fixtures) -> crate::outcome::Result<&Self> {
        Ok(&fx.op_state)
    }
}

impl Fixture for Stack {
    fn get(fx: &Fixtures) -> crate::outcome::Result<&Self> {
        Ok(&fx.stack)
    }
}

impl Fixture for Http {
    fn get(fx: &Fixtures) -> crate::outcome::Result<&Self> {
        fx.http.as_ref().ok_or_else(|| {
            "the app has no HTTP route (its main service has no traefik loadbalancer.server.port label), so there is no `Http` fixture".into()
        })
    }
}

impl Fixture for crate::Browser {
    fn get(fx: &Fixtures) -> crate::outcome::Result<&Self> {
        fx.browser.as_ref().ok_or_else(|| {
            "the app has no HTTP route (its main service has no traefik loadbalancer.server.port label), so there is no `Browser` fixture".into()
        })
    }
}

/// The deployed stack: exec into its services' containers.
#[derive(Clone)]
pub struct Stack {
    pub(crate) swarm: Swarm,
    pub(crate) name: String,
}

impl Stack {
    /// The stack name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Swarm, for what this fixture does not wrap.
    pub fn swarm(&self) -> &Swarm {
        &self.swarm
    }

    /// A running container of `service` (the short name, e.g. `app`).
    pub async fn container(&self, service: &str) -> crate::outcome::Result<String> {
        self.swarm
            .running_container(&self.name, service)
            .await?
            .ok_or_else(|| {
                format!("service {}_{service} has no running container", self.name).into()
            })
    }

    /// Runs `argv` (no shell) in a running container of `service`.
    pub async fn exec(&self, service: &str, argv: &[&str]) -> crate::outcome::Result<ExecOutput> {
        let c = self.container(service).await?;
        Ok(self.swarm.exec(&c, argv).await?)
    }

    /// Like [`Stack::exec`], but a non-zero exit is an error carrying stderr; returns stdout.
    pub async fn exec_ok(&self, service: &str, argv: &[&str]) -> crate::outcome::Result<String> {
        let out = self.exec(service, argv).await?;
        if out.exit_code != 0 {
            return Err(format!(
                "{argv:?} in {service} exited {}: {}",
                out.exit_code,
                out.stderr_str().trim()
            )
            .into());
        }
        Ok(out.stdout_str())
    }
}

/// An HTTP client on the app's base URL, keeping cookies between requests.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    base_url: String,
    via: ccci_swarm::Via,
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Page {
    /// Status code.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// Every header, names lower-case, in the order received.
    pub headers: Vec<(String, String)>,
}

impl Page {
    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; an error that says the status and how the body starts when it is
    /// not JSON (an HTML error page, a proxy's answer).
    pub fn json(&self) -> crate::outcome::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            format!(
                "the answer ({}) is not JSON: {e}: {}",
                self.status,
                self.text().chars().take(300).collect::<String>()
            )
            .into()
        })
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Http {
    pub(crate) fn new(base_url: &str, via: &ccci_swarm::Via) -> crate::outcome::Result<Http> {
        let client = via.client_builder()?.cookie_store(true).build()?;
        Ok(Http {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            via: via.clone(),
        })
    }

    /// Another client on the same route with cookies of its own (a clone shares them): a
    /// second user, or one with no session anywhere yet.
    pub fn fresh(&self) -> crate::outcome::Result<Http> {
        Http::new(&self.base_url, &self.via)
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base_url, path.trim_start_matches('/'))
    }

    /// GETs `path` (redirects are not followed, so they can be asserted).
    pub async fn get(&self, path: &str) -> crate::outcome::Result<Page> {
        self.send("GET", self.client.get(self.url(path)), path)
            .await
    }

    /// POSTs `body` with `content_type` to `path`.
    pub async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> crate::outcome::Result<Page> {
        let req = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body.into());
        self.send("POST", req, path).await
    }

    /// DELETEs `path`.
    pub async fn delete(&self, path: &str) -> crate::outcome::Result<Page> {
        self.send("DELETE", self.client.delete(self.url(path)), path)
            .await
    }

    async fn send(
        &self,
        method: &str,
        req: reqwest::RequestBuilder,
        path: &str,
    ) -> crate::outcome::Result<Page> {
        let r = req
            .send()
            .await
            .map_err(|e| format!("{method} {}: {e}", self.url(path)))?;
        read(r).await
    }

    /// The underlying client (cookies shared), for other methods and other hosts: it also
    /// reaches the run's dependencies (an OIDC provider's issuer URL) behind the same Traefik.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a request made with [`Http::client`] (to any URL it reaches), redirects not
    /// followed, and reads the answer whole.
    ///
    /// ```no_run
    /// # async fn f(http: &ccci::Http) -> ccci::Result {
    /// let page = http.request(http.client().get("https://sso.ccci.test/api/r/.well-known/openid-configuration")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn request(&self, req: reqwest::RequestBuilder) -> crate::outcome::Result<Page> {
        let shown = req
            .try_clone()
            .and_then(|r| r.build().ok())
            .map(|r| format!("{} {}", r.method(), r.url()))
            .unwrap_or_else(|| "a request".into());
        let r = req.send().await.map_err(|e| format!("{shown}: {e}"))?;
        read(r).await
    }
}

/// A response, read whole.
async fn read(r: reqwest::Response) -> crate::outcome::Result<Page> {
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = r.bytes().await?.to_vec();
    Ok(Page {
        status,
        body,
        content_type,
        headers,
    })
}
