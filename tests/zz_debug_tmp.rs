mod common;
use common::{Peer, Sandbox};
#[test]
fn dbg() {
    let peer = Peer::shared();
    let user = peer.create_user("dbg", true);
    let sb = Sandbox::new();
    sb.write_credentials(&format!("[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n", user.access_key_id, user.secret_access_key));
    let out = sb.command(peer).args(["--code", &user.fresh_code(), "refresh", "--format", "fish"]).output().unwrap();
    println!("STATUS {:?}\n{}\n{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let out = sb.command(peer).args(["--code", &user.fresh_code(), "refresh"]).output().unwrap();
    println!("STATUS {:?}\n{}\n{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}
