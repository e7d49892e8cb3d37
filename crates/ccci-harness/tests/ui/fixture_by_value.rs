use ccci::HookCtx;

#[ccci::functional]
async fn takes_ownership(ctx: HookCtx) -> ccci::Result {
    let _ = ctx;
    Ok(())
}

fn main() {}
