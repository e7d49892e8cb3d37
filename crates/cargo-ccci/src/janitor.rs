//! `cargo ccci janitor`: what killed runs, and stacks no registered run holds past an age,
//! left on the Swarm, removed.

use std::process::ExitCode;

/// `janitor [--dry-run] [--kept] [--older-than 2h|never] [--after 30m]`.
pub(crate) fn command(
    dry_run: bool,
    kept: bool,
    older_than: &str,
    after: Option<&str>,
) -> Result<ExitCode, String> {
    let older_than = match older_than {
        "never" => None,
        d => Some(ccci::core::meta::duration(d).ok_or_else(|| {
            format!("--older-than `{d}` is not a duration: write it like `2h` or `30m`, or `never`")
        })?),
    };
    if let Some(a) = after {
        let wait = ccci::core::meta::duration(a).ok_or_else(|| {
            format!("--after `{a}` is not a duration: write it like `30m` or `90s`")
        })?;
        std::thread::sleep(wait);
    }
    janitor(ccci::registry::Sweep {
        dry_run,
        kept,
        older_than,
    })
}

/// Removes what `sweep` says, and says what it removed.
fn janitor(sweep: ccci::registry::Sweep) -> Result<ExitCode, String> {
    let dry_run = sweep.dry_run;
    let here = std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?;
    let settings = ccci::Settings::from_env(&here, ccci::default_runs_dir(&here))
        .map_err(|e| e.to_string())?;
    let registry = ccci::registry::Registry::open(settings.registry_dir.as_deref())
        .map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let reaped = rt.block_on(async {
        let swarm = ccci_swarm::Swarm::connect()
            .await
            .map_err(|e| e.to_string())?;
        let budget = ccci::budget::JANITOR;
        Ok::<_, String>((
            ccci::registry::reap(&registry, &swarm, sweep, budget).await,
            ccci::registry::reap_orphans(&registry, &swarm, sweep, budget).await,
        ))
    })?;
    let (reaped, orphans) = reaped;
    let runs = registry.runs();
    let live = runs.iter().filter(|r| ccci::registry::alive(r)).count();
    let kept: Vec<_> = runs
        .iter()
        .filter(|r| !ccci::registry::alive(r) && r.kept_now() && !sweep.kept)
        .collect();
    for r in &reaped {
        let what = format!(
            "run {} of {} (stack {}, process {} gone)",
            r.run.run_id, r.run.recipe, r.run.stack, r.run.pid
        );
        match (dry_run, r.left.is_empty()) {
            (true, true) => say!("would forget {what}: nothing of it is left"),
            (true, false) => say!("would remove {what}: {}", r.left.join(", ")),
            (false, true) => say!("removed {what}"),
            (false, false) => {
                say!("could not remove all of {what}: left {}", r.left.join(", "))
            }
        }
    }
    say!(
        "cargo ccci janitor: {} killed run{} {}, {live} live run{} left alone (registry: {})",
        reaped.len(),
        if reaped.len() == 1 { "" } else { "s" },
        if dry_run { "found" } else { "reaped" },
        if live == 1 { "" } else { "s" },
        registry.dir().display()
    );
    for o in &orphans {
        let what = format!(
            "stack {} of {} (no registered run holds it; {} min old)",
            o.stack,
            o.of,
            o.age / 60
        );
        match (dry_run, o.left.is_empty()) {
            (true, _) => say!("would remove {what}: {}", o.left.join(", ")),
            (false, true) => say!("removed {what}"),
            (false, false) => say!("could not remove all of {what}: left {}", o.left.join(", ")),
        }
    }
    for k in &kept {
        say!(
            "kept for debugging: stack {} of run {} ({}) until {}; `cargo ccci janitor --kept` removes it now",
            k.stack,
            k.run_id,
            k.recipe,
            k.keep_until.map(ccci::core::time::rfc3339).unwrap_or_default()
        );
    }
    let all_gone =
        reaped.iter().all(|r| r.left.is_empty()) && orphans.iter().all(|o| o.left.is_empty());
    Ok(match all_gone || dry_run {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    })
}
