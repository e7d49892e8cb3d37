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

/// The resource limits each service of an untrusted head gets where its recipe sets none
/// (`deploy.resources.limits`), so that one head cannot take the host's memory or every core
/// from the runs beside it. Written `memory=2G,cpus=1` (either may be left out), or `none`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// A memory limit as compose writes one (`512M`, `2G`).
    pub memory: Option<String>,
    /// A share of the host's cores (`1`, `0.5`).
    pub cpus: Option<String>,
}

impl Default for Limits {
    /// 2 GiB and one core a service: Ghost's first boot and Synapse's migrations fit in it.
    fn default() -> Self {
        Limits {
            memory: Some("2G".into()),
            cpus: Some("1".into()),
        }
    }
}

impl Limits {
    /// Whether it limits nothing (`none`).
    pub fn is_none(&self) -> bool {
        self.memory.is_none() && self.cpus.is_none()
    }
}

impl std::str::FromStr for Limits {
    type Err = String;

    fn from_str(s: &str) -> Result<Limits, String> {
        let mut limits = Limits {
            memory: None,
            cpus: None,
        };
        if s.trim() == "none" {
            return Ok(limits);
        }
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| {
                format!("`{part}` is not KEY=VALUE: write `memory=2G,cpus=1`, or `none`")
            })?;
            let value = value.trim();
            match key.trim() {
                "memory" => {
                    let digits = value.trim_end_matches(['K', 'M', 'G', 'k', 'm', 'g']);
                    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(format!(
                            "memory `{value}` is not a size: write it like `512M` or `2G`"
                        ));
                    }
                    limits.memory = Some(value.to_string());
                }
                "cpus" => {
                    if !value.parse::<f64>().is_ok_and(|c| c > 0.0) {
                        return Err(format!(
                            "cpus `{value}` is not a positive number: write it like `1` or `0.5`"
                        ));
                    }
                    limits.cpus = Some(value.to_string());
                }
                other => return Err(format!("no limit `{other}`: ccci sets `memory` and `cpus`")),
            }
        }
        Ok(limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_parsed_strictly() {
        assert_eq!("memory=2G,cpus=1".parse::<Limits>(), Ok(Limits::default()));
        assert!("none".parse::<Limits>().unwrap().is_none());
        assert_eq!(
            "cpus=0.5".parse::<Limits>().unwrap(),
            Limits {
                memory: None,
                cpus: Some("0.5".into())
            }
        );
        assert!("memory=lots"
            .parse::<Limits>()
            .unwrap_err()
            .contains("512M"));
        assert!("cpus=-1"
            .parse::<Limits>()
            .unwrap_err()
            .contains("positive"));
        assert!("pids=10"
            .parse::<Limits>()
            .unwrap_err()
            .contains("no limit `pids`"));
    }

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
