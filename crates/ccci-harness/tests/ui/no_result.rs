use ccci::HookCtx;

#[ccci::functional]
async fn forgets_the_result(_ctx: &HookCtx) {}

fn main() {}
