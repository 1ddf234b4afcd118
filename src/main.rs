fn main() {
    println!("ews-connector {}", env!("CARGO_PKG_VERSION"));
}
