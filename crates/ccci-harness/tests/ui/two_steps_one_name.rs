use ccci::HookCtx;

mod pages {
    #[ccci::functional]
    async fn serves(_ctx: &super::HookCtx) -> ccci::Result {
        Ok(())
    }
}

mod api {
    #[ccci::functional]
    async fn serves(_ctx: &super::HookCtx) -> ccci::Result {
        Ok(())
    }
}

fn main() {}
