use ccci::Stack;

#[ccci::lifecycle(before = install)]
async fn too_early(_stack: &Stack) -> ccci::Result {
    Ok(())
}

#[ccci::lifecycle(after = deploy)]
async fn not_an_op(_stack: &Stack) -> ccci::Result {
    Ok(())
}

fn main() {}
