//! What an untrusted head may deploy beyond its own stack, as an operator grants it: the
//! rules the policy refuses by (checked in `ccci_abra::policy`), and an allowance of one
//! rule for one exact value. Here, not beside the checks, because the service reads
//! allowances from its configuration and hands them to runs without deploying anything.

use std::fmt;

/// What a refusal is about; an operator allows one by its name and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// A host path mounted into a service (`type: bind`), or a volume whose driver options
    /// bind one (`o: bind`, `device:`).
    BindMount,
    /// A Linux capability added (`cap_add`).
    CapAdd,
    /// A kernel parameter set (`sysctls`).
    Sysctl,
    /// A host device mapped (`devices`).
    Device,
    /// A secret, config, volume or network used by name that is not the run's own (`external:
    /// true`; the `proxy` network and the app's own `<stack>_…` secrets excepted).
    External,
    /// A file the docker CLI reads on the CI host (`file:` of a secret or config, `env_file:`)
    /// that is outside the recipe's checkout once symlinks are followed.
    HostFile,
    /// A Traefik rule naming a host that is not the run's (or naming none, which claims every
    /// host).
    Host,
    /// A name on a shared network others resolve: an alias on an external network that is
    /// not the run's domain or under it, or a service named as ccci's own infrastructure is
    /// (`ccci…`).
    Alias,
}

impl Rule {
    /// Every rule, for messages and parsing.
    pub const ALL: [Rule; 8] = [
        Rule::BindMount,
        Rule::CapAdd,
        Rule::Sysctl,
        Rule::Device,
        Rule::External,
        Rule::HostFile,
        Rule::Host,
        Rule::Alias,
    ];

    /// Its name in allowances (`bind_mount:/var/run/docker.sock`) and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::BindMount => "bind_mount",
            Rule::CapAdd => "cap_add",
            Rule::Sysctl => "sysctl",
            Rule::Device => "device",
            Rule::External => "external",
            Rule::HostFile => "host_file",
            Rule::Host => "host",
            Rule::Alias => "alias",
        }
    }

    /// The rule named `name`.
    pub fn of(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the operator allows one repository beyond its own stack: a rule and the exact value
/// (`bind_mount:/var/run/docker.sock`, `cap_add:NET_ADMIN`, `external:proxy_backup`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Allowance {
    /// The rule.
    pub rule: Rule,
    /// The value it allows, exactly as the refusal names it.
    pub value: String,
}

impl std::str::FromStr for Allowance {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let names = || {
            Rule::ALL
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let (rule, value) = s.split_once(':').ok_or_else(|| {
            format!(
                "allowance `{s}` is not RULE:VALUE (rules: {}), e.g. bind_mount:/var/run/docker.sock",
                names()
            )
        })?;
        let rule = Rule::of(rule.trim())
            .ok_or_else(|| format!("allowance `{s}`: no rule `{rule}` (rules: {})", names()))?;
        let value = value.trim();
        if value.is_empty() {
            return Err(format!("allowance `{s}` allows no value: name it exactly"));
        }
        Ok(Allowance {
            rule,
            value: value.to_string(),
        })
    }
}

impl fmt::Display for Allowance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.rule, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowances_are_parsed_strictly() {
        assert!("cap_add:NET_ADMIN".parse::<Allowance>().is_ok());
        let e = "mount:/x".parse::<Allowance>().unwrap_err();
        assert!(
            e.contains("no rule `mount`") && e.contains("bind_mount"),
            "{e}"
        );
        assert!("bind_mount"
            .parse::<Allowance>()
            .unwrap_err()
            .contains("RULE:VALUE"));
        assert!("host: "
            .parse::<Allowance>()
            .unwrap_err()
            .contains("allows no value"));
    }
}
