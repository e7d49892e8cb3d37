//! `HookCtx`: the one context every hook and recipe test receives, so a test never has to
//! find the app's domain or settings itself [R5].

pub use crate::deps::Deps;
use crate::meta::RecipeMeta;
use crate::op::Op;
use crate::results::Routing;
use std::sync::Arc;

/// What a hook or test knows about the app under test.
///
/// ```
/// use ccci_core::{HookCtx, RecipeMeta, meta::Source};
/// let ctx = HookCtx::new("cust-1a2b3c.ccci.test", "http://127.0.0.1:20080", RecipeMeta::new("custom-html", Source::Git("x".into())));
/// assert_eq!(ctx.url("/index.html"), "http://127.0.0.1:20080/index.html");
/// assert_eq!(ctx.url("missing-slash"), "http://127.0.0.1:20080/missing-slash");
/// ```
#[derive(Debug, Clone)]
pub struct HookCtx {
    /// The app's domain, unique to this run.
    pub domain: String,
    /// Where the app answers, without a trailing slash: `https://<domain>[:<port>]` through
    /// Traefik, `http://<the Swarm's host>:<port>` on a host port.
    pub base_url: String,
    /// The recipe's settings.
    pub meta: Arc<RecipeMeta>,
    /// Provisioned dependency credentials.
    pub deps: Deps,
    /// The op being performed, or `None` for functional tests.
    pub op: Option<Op>,
    /// How the app is reached: through Traefik (its routers and middlewares in force) or on
    /// a host port (they are not).
    pub routing: Routing,
}

impl HookCtx {
    /// A context with no deps and no current op.
    pub fn new(domain: impl Into<String>, base_url: impl Into<String>, meta: RecipeMeta) -> Self {
        HookCtx {
            domain: domain.into(),
            base_url: base_url.into().trim_end_matches('/').to_string(),
            meta: Arc::new(meta),
            deps: Deps::new(),
            op: None,
            routing: Routing::HostPort,
        }
    }

    /// The absolute URL of `path` on the app.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.base_url)
        } else {
            format!("{}/{path}", self.base_url)
        }
    }
}
