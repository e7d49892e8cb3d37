use ccci::OpState;

#[ccci::functional]
async fn generic<T>(_state: &mut OpState) -> ccci::Result {
    Ok(())
}

fn main() {}
