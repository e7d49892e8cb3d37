#[ccci::functional]
async fn asks_for_a_string(_s: &String) -> ccci::Result {
    Ok(())
}

fn main() {}
