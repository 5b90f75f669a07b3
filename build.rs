//! `sqlx::migrate!` embeds `migrations/postgres` at compile time, but cargo does not know the
//! macro reads that directory: without this, a new or edited migration is left out of the
//! binary until some source file changes too.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
