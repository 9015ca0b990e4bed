//! The HTTP floor of bench/compare.sh: actix-web answering `POST /NAME` with the bytes of
//! `DIR/NAME.json`, read once at start (the script saves admin-center's own answers there).
//! It reads each request's body as admin-center does, and nothing else: no parsing, no
//! database. Same HTTP stack and worker count as the server, so its throughput is what a
//! response of that size costs over HTTP on this machine.
//!
//!     cargo run --release --example floor -- 127.0.0.1:8099 DIR

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, web};

async fn answer(
    name: web::Path<String>,
    _body: web::Bytes,
    bodies: web::Data<Arc<HashMap<String, web::Bytes>>>,
) -> HttpResponse {
    match bodies.get(name.as_str()) {
        Some(bytes) => HttpResponse::Ok()
            .content_type("application/json")
            .body(bytes.clone()),
        None => HttpResponse::NotFound().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(bind), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: floor BIND DIR   (answers POST /NAME with DIR/NAME.json)");
        std::process::exit(2);
    };
    let mut bodies = HashMap::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            bodies.insert(name, web::Bytes::from(std::fs::read(&path)?));
        }
    }
    let bodies = web::Data::new(Arc::new(bodies));
    HttpServer::new(move || {
        App::new()
            .app_data(bodies.clone())
            .route("/{name}", web::post().to(answer))
    })
    .bind(bind)?
    .run()
    .await
}
