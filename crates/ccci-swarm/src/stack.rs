//! How Swarm marks what belongs to a stack: `docker stack deploy` puts one label on every
//! service, task, container, network, volume, secret and config it creates. Names are not
//! enough: the Engine's name filters match by prefix (`os_job` matches `os_jobfail`).

use std::collections::HashMap;

/// The label `docker stack deploy` puts on everything of a stack.
pub const STACK_LABEL: &str = "com.docker.stack.namespace";

/// An Engine API filter for exactly the objects of `stack`.
pub(crate) fn stack_filter(stack: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![format!("{STACK_LABEL}={stack}")])])
}

/// `(id, name)` of a secret or config that belongs to `stack`: it carries the stack label, or
/// its name starts with `<stack>_` (abra's naming, for ones created without the label).
pub(crate) fn of_stack(
    stack: &str,
    id: Option<String>,
    name: String,
    labels: Option<&HashMap<String, String>>,
) -> Option<(String, String)> {
    let labelled = labels
        .as_ref()
        .and_then(|l| l.get(STACK_LABEL))
        .map(String::as_str)
        == Some(stack);
    (labelled || name.starts_with(&format!("{stack}_"))).then(|| (id.unwrap_or_default(), name))
}
