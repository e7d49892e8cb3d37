use ccci::HookCtx;

#[ccci::functional]
fn returns_a_number(_ctx: &HookCtx) -> u32 {
    7
}

fn main() {}
