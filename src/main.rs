fn main() {
    println!("samverkan");
}
