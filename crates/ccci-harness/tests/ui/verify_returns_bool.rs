use ccci::Snapshot;

#[ccci::backup_verify]
fn still_returns_a_verdict(_snapshot: &Snapshot) -> ccci::Result<bool> {
    Ok(true)
}

fn main() {}
