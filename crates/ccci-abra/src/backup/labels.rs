//! backupbot's label protocol (how Co-op Cloud recipes say what to back up), as pure
//! functions of a service's labels
//! and its container's mounts: which services, which paths, which hooks.

use crate::error::AbraError;
use ccci_swarm::MountInfo;
use std::collections::HashMap;

/// What to back up and which hooks to run, read from the service labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupPlan {
    /// The service's short name.
    pub service: String,
    /// Absolute paths in the container to copy.
    pub paths: Vec<String>,
    /// The commands to run around a backup or restore of this service.
    pub hooks: BackupHooks,
}

/// A service's backupbot hooks: shell commands run in its container (`sh -c`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupHooks {
    /// `backupbot.backup.pre-hook`: before anything is copied (a database dump, say).
    pub pre_backup: Option<String>,
    /// `backupbot.backup.post-hook`: after every copy.
    pub post_backup: Option<String>,
    /// `backupbot.restore.pre-hook`: before the archives are put back.
    pub pre_restore: Option<String>,
    /// `backupbot.restore.post-hook`: after they are (loading a dump back, say).
    pub post_restore: Option<String>,
}

/// The hooks a service's labels declare; empty labels count as absent.
pub fn hooks(labels: &HashMap<String, String>) -> BackupHooks {
    let hook = |k: &str| {
        labels
            .get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    BackupHooks {
        pre_backup: hook("backupbot.backup.pre-hook"),
        post_backup: hook("backupbot.backup.post-hook"),
        pre_restore: hook("backupbot.restore.pre-hook"),
        post_restore: hook("backupbot.restore.post-hook"),
    }
}

/// Whether any service of the stack has `backupbot.backup=true` (BACKUP_CAPABLE detection).
pub fn is_backup_capable(services: &[(String, HashMap<String, String>)]) -> bool {
    services.iter().any(|(_, l)| {
        l.get("backupbot.backup")
            .is_some_and(|v| v.trim() == "true")
    })
}

/// The services to back up: every one labelled `backupbot.backup=true`, in name order.
pub fn backup_services(
    stack: &str,
    services: &[(String, HashMap<String, String>)],
) -> Result<Vec<String>, AbraError> {
    let mut marked: Vec<String> = services
        .iter()
        .filter(|(_, l)| {
            l.get("backupbot.backup")
                .is_some_and(|v| v.trim() == "true")
        })
        .map(|(n, _)| n.clone())
        .collect();
    marked.sort();
    if marked.is_empty() {
        return Err(AbraError::Recipe(format!(
            "stack {stack}: no service has the label backupbot.backup=true, so there is nothing to back up; add it to the service whose volumes hold the data, or declare `expected_na: {{backup_restore: <reason>}}` in ccci.yml"
        )));
    }
    Ok(marked)
}

/// Applies the label protocol to the service's labels and its container's mounts.
pub fn plan(
    stack: &str,
    service: &str,
    labels: &HashMap<String, String>,
    mounts: &[MountInfo],
) -> Result<BackupPlan, AbraError> {
    let mut paths = Vec::new();
    let legacy = labels
        .get("backupbot.backup.path")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty());
    if let Some(legacy) = legacy {
        for p in legacy.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if !p.starts_with('/') {
                return Err(AbraError::Recipe(format!("service {service}: backupbot.backup.path `{p}` must be an absolute path in the container")));
            }
            paths.push(p.trim_end_matches('/').to_string());
        }
    } else {
        let prefix = format!("{stack}_");
        for m in mounts.iter().filter(|m| m.kind == "volume") {
            let Some(name) = &m.name else { continue };
            let vol = name.strip_prefix(&prefix).unwrap_or(name);
            if labels
                .get(&format!("backupbot.backup.volumes.{vol}"))
                .is_some_and(|v| v.trim() == "false")
            {
                continue;
            }
            let root = m.destination.trim_end_matches('/');
            match labels.get(&format!("backupbot.backup.volumes.{vol}.path")) {
                Some(sel) => {
                    for rel in sel.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                        if rel.starts_with('/') || rel.split('/').any(|c| c == "..") {
                            return Err(AbraError::Recipe(format!(
                                "service {service}: backupbot.backup.volumes.{vol}.path `{rel}` must be relative to the volume root, without `..`"
                            )));
                        }
                        paths.push(format!("{root}/{}", rel.trim_end_matches('/')));
                    }
                }
                None => paths.push(root.to_string()),
            }
        }
    }
    if paths.is_empty() {
        return Err(AbraError::Recipe(format!(
            "service {service} has backupbot.backup=true but no volume (or path) to back up: mount a named volume, or select paths with backupbot.backup.volumes.<vol>.path"
        )));
    }
    Ok(BackupPlan {
        service: service.into(),
        paths,
        hooks: hooks(labels),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> HashMap<String, String> {
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn vol(name: &str, dest: &str) -> MountInfo {
        MountInfo {
            kind: "volume".into(),
            name: Some(name.into()),
            destination: dest.into(),
        }
    }

    #[test]
    fn all_volumes_by_default_binds_never() {
        let mounts = [
            vol("s_data", "/data/"),
            vol("s_uploads", "/up"),
            MountInfo {
                kind: "bind".into(),
                name: None,
                destination: "/etc/x".into(),
            },
        ];
        let p = plan("s", "app", &labels([("backupbot.backup", "true")]), &mounts).unwrap();
        assert_eq!(p.paths, ["/data", "/up"]);
        assert_eq!(p.hooks.pre_backup, None);
    }

    #[test]
    fn volume_exclusion_and_path_selection() {
        let l = labels([
            ("backupbot.backup", "true"),
            ("backupbot.backup.volumes.uploads", "false"),
            (
                "backupbot.backup.volumes.db-data.path",
                "backup.sql, extra/",
            ),
            ("backupbot.backup.pre-hook", "/pg_backup.sh backup"),
            ("backupbot.restore.post-hook", " /pg_backup.sh restore "),
        ]);
        let p = plan(
            "s",
            "db",
            &l,
            &[
                vol("s_db-data", "/var/lib/postgresql/data"),
                vol("s_uploads", "/up"),
            ],
        )
        .unwrap();
        assert_eq!(
            p.paths,
            [
                "/var/lib/postgresql/data/backup.sql",
                "/var/lib/postgresql/data/extra"
            ]
        );
        assert_eq!(p.hooks.pre_backup.as_deref(), Some("/pg_backup.sh backup"));
        assert_eq!(
            p.hooks.post_restore.as_deref(),
            Some("/pg_backup.sh restore")
        );
    }

    #[test]
    fn legacy_absolute_paths() {
        let l = labels([
            ("backupbot.backup", "true"),
            ("backupbot.backup.path", "/usr/share/nginx/html/,/etc/x"),
        ]);
        assert_eq!(
            plan("s", "app", &l, &[]).unwrap().paths,
            ["/usr/share/nginx/html", "/etc/x"]
        );
        let bad = labels([("backupbot.backup.path", "relative")]);
        assert!(plan("s", "app", &bad, &[])
            .unwrap_err()
            .to_string()
            .contains("must be an absolute path"));
    }

    #[test]
    fn escaping_selections_and_empty_plans_are_errors() {
        let l = labels([("backupbot.backup.volumes.d.path", "../etc/passwd")]);
        assert!(plan("s", "app", &l, &[vol("s_d", "/d")])
            .unwrap_err()
            .to_string()
            .contains("without `..`"));
        assert!(plan("s", "app", &labels([]), &[])
            .unwrap_err()
            .to_string()
            .contains("no volume (or path) to back up"));
    }

    /// Real recipes (BON among them) label both the app and its database: both are backed up.
    #[test]
    fn every_labelled_service_is_backed_up() {
        let on = labels([("backupbot.backup", "true")]);
        let off = labels([("backupbot.backup", "false")]);
        let svcs = vec![
            ("app".to_string(), on.clone()),
            ("db".to_string(), off.clone()),
        ];
        assert!(is_backup_capable(&svcs));
        assert_eq!(backup_services("s", &svcs).unwrap(), ["app"]);
        let none = vec![("app".to_string(), off)];
        assert!(!is_backup_capable(&none));
        assert!(backup_services("s", &none)
            .unwrap_err()
            .to_string()
            .contains("expected_na"));
        let two = vec![("db".to_string(), on.clone()), ("app".to_string(), on)];
        assert_eq!(backup_services("s", &two).unwrap(), ["app", "db"]);
    }
}
