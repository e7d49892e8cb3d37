use ccci::Snapshot;

#[ccci::lifecycle(after = upgrade)]
fn reads_a_backup_too_early(_snapshot: &Snapshot) -> ccci::Result {
    Ok(())
}

fn main() {}
