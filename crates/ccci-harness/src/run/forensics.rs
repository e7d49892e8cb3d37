//! What a run keeps when a step fails (the stack's task history and log tails, in the run
//! directory, named from results.json), and the recipe's `OpState` as the run ends.

use super::Run;
use crate::plan::Step;
use crate::shared::lock;

impl Run {
    /// Keeps the stack's task history and log tails for a failed step (in the run directory,
    /// referenced from results.json); `None` when nothing is deployed or it cannot be written.
    pub(super) fn forensics(&self, step: &Step, error: &str) -> Option<String> {
        let (swarm, stack) = {
            let d = lock(&self.deployment);
            let d = d.as_ref().filter(|d| d.on_swarm)?;
            (d.swarm.clone(), d.app.stack.clone())
        };
        let services = match self
            .rt
            .block_on(ccci_swarm::forensics::collect(&swarm, &stack, 50))
        {
            Ok(s) => s,
            Err(e) => {
                eprintln!("ccci: could not collect forensics for {}: {e}", step.name);
                return None;
            }
        };
        let n = self.shared.record(|r| r.tests.len()) + 1;
        let name: String = step
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let dir = self.shared.dir.forensics();
        let path = dir.join(format!("{n:02}-{name}.txt"));
        let text = format!(
            "step {}\nfailed: {error}\n\n{}",
            step.name,
            ccci_swarm::forensics::render(&services)
        );
        let written = std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::write(&path, text))
            .and_then(|_| {
                std::fs::write(
                    path.with_extension("json"),
                    serde_json::to_string_pretty(&services).unwrap_or_default(),
                )
            });
        match written {
            Ok(()) => {
                eprintln!(
                    "ccci: {} failed; task history and logs kept in {}",
                    step.name,
                    path.display()
                );
                Some(path.display().to_string())
            }
            Err(e) => {
                eprintln!("ccci: could not write {}: {e}", path.display());
                None
            }
        }
    }

    pub(super) fn persist_op_state(&self) {
        if let Ok(json) = serde_json::to_string_pretty(&self.shared.op_state.values()) {
            let path = self.shared.dir.op_state();
            if let Err(e) = std::fs::write(&path, json) {
                eprintln!("ccci: cannot write {}: {e}", path.display());
            }
        }
    }
}
