//! Dependencies a recipe declares (`deps` in `ccci.yml`): the kinds ccci can provide, the
//! names recipes use for them, and the `{deps.<name>.<key>}` templates settings read the
//! provided values with.
//!
//! ```
//! use ccci_core::deps::{expand, Kind};
//! use ccci_core::Deps;
//! assert_eq!(Kind::of("keycloak"), Some(Kind::Oidc));
//! assert_eq!(Kind::of("mailserver"), None);
//! let mut deps = Deps::new();
//! deps.entry("sso".into()).or_default().insert("issuer".into(), "https://id.example/api/r1".into());
//! assert_eq!(expand("{deps.sso.issuer}/.well-known", &deps).unwrap(), "https://id.example/api/r1/.well-known");
//! assert_eq!(expand("{not a template}", &deps).unwrap(), "{not a template}");
//! ```

use serde::{Deserialize, Serialize};

/// Credentials of provisioned dependencies, by dependency name, then key: what a test reads
/// as `ctx.deps` and a template as `{deps.<name>.<key>}`.
pub type Deps = std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>;

/// What a dependency is, whatever the recipe calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An OpenID Connect provider: the app signs its users in through it.
    Oidc,
}

/// The names recipes give their dependencies, and the kind each needs. Real recipes name
/// the product they were written against (`keycloak`, `authentik`); every one of them needs
/// an OIDC provider, which is what ccci provides.
pub const NAMES: &[(&str, Kind)] = &[
    ("oidc", Kind::Oidc),
    ("openid", Kind::Oidc),
    ("sso", Kind::Oidc),
    ("keycloak", Kind::Oidc),
    ("authentik", Kind::Oidc),
];

impl Kind {
    /// The kind a declared dependency `name` needs, or `None` when ccci provides nothing of
    /// that name.
    pub fn of(name: &str) -> Option<Kind> {
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
    }

    /// Its name in results and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Oidc => "oidc",
        }
    }

    /// Every key a provided dependency of this kind has, in `ctx.deps[name]` and in
    /// `{deps.<name>.<key>}` templates.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Oidc => OIDC_KEYS,
        }
    }
}

/// What an OIDC dependency gives a run: its own realm's issuer (and where its discovery
/// document is), a confidential client with the app's redirect URIs, a user, and the
/// authorities that sign the provider's TLS certificate (PEM), for an app that must trust
/// them to reach the issuer.
pub const OIDC_KEYS: &[&str] = &[
    "issuer",
    "discovery_url",
    "realm",
    "client_id",
    "client_secret",
    "username",
    "password",
    "ca_pem",
];

/// Keys whose values are credentials: never written to results, reports or logs.
pub const SECRET_KEYS: &[&str] = &["client_secret", "password"];

/// One reference to a provided value in a setting: `{deps.<name>.<key>}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The dependency's name as `deps` declares it.
    pub name: String,
    /// The key of its values.
    pub key: String,
}

/// Every `{deps.<name>.<key>}` in `value`, in order. Braces that do not hold a `deps.`
/// reference are text.
pub fn references(value: &str) -> Vec<Reference> {
    pieces(value)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Ref(r) => Some(r),
            Piece::Text(_) => None,
        })
        .collect()
}

/// Whether `value` is nothing but `{deps.<name>.<key>}` references (at least one): it holds
/// no text of its own, so showing it shows no secret.
///
/// ```
/// use ccci_core::deps::only_references;
/// assert!(only_references("{deps.sso.client_secret}"));
/// assert!(!only_references("s3cr3t-{deps.sso.realm}"));
/// assert!(!only_references(""));
/// ```
pub fn only_references(value: &str) -> bool {
    let pieces = pieces(value);
    pieces.iter().any(|p| matches!(p, Piece::Ref(_)))
        && pieces
            .iter()
            .all(|p| !matches!(p, Piece::Text(t) if !t.is_empty()))
}

/// `value` with every `{deps.<name>.<key>}` replaced by the provided value.
///
/// # Errors
/// The first reference to a dependency or key `deps` has no value for, as
/// `deps.<name>.<key>`.
pub fn expand(value: &str, deps: &Deps) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    for p in pieces(value) {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Ref(r) => {
                let v = deps
                    .get(&r.name)
                    .and_then(|d| d.get(&r.key))
                    .ok_or_else(|| format!("deps.{}.{}", r.name, r.key))?;
                out.push_str(v);
            }
        }
    }
    Ok(out)
}

enum Piece<'a> {
    Text(&'a str),
    Ref(Reference),
}

fn pieces(value: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("{deps.") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let inner = &rest[start + 6..start + len];
        match inner.split_once('.') {
            Some((name, key)) if is_word(name) && is_word(key) => {
                out.push(Piece::Text(&rest[..start]));
                out.push(Piece::Ref(Reference {
                    name: name.into(),
                    key: key.into(),
                }));
            }
            _ => out.push(Piece::Text(&rest[..start + len + 1])),
        }
        rest = &rest[start + len + 1..];
    }
    out.push(Piece::Text(rest));
    out
}

fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_found_among_text_and_other_braces() {
        let r = references("x{deps.sso.issuer}y{other}{deps.sso.client_id}{deps.bad}");
        assert_eq!(
            r,
            [
                Reference {
                    name: "sso".into(),
                    key: "issuer".into()
                },
                Reference {
                    name: "sso".into(),
                    key: "client_id".into()
                }
            ]
        );
    }

    #[test]
    fn a_value_nobody_provided_is_named() {
        assert_eq!(
            expand("{deps.oidc.issuer}", &Deps::new()).unwrap_err(),
            "deps.oidc.issuer"
        );
        assert_eq!(expand("plain {x}", &Deps::new()).unwrap(), "plain {x}");
    }

    #[test]
    fn every_name_maps_to_a_kind_with_keys() {
        for (name, kind) in NAMES {
            assert_eq!(Kind::of(name), Some(*kind));
            assert!(kind.keys().contains(&"issuer"));
        }
        for k in SECRET_KEYS {
            assert!(OIDC_KEYS.contains(k));
        }
    }
}
