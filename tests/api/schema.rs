//! `schema.graphql` is generated from the code: this test fails when they differ, and
//! `UPDATE_SCHEMA=1 cargo test schema` rewrites the file.

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");

#[test]
fn schema_file_matches_the_code() {
    let sdl = admin_center::graphql::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(PATH, &sdl).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        on_disk == sdl,
        "schema.graphql is out of date: run `UPDATE_SCHEMA=1 cargo test --test api schema` and commit it"
    );
}
