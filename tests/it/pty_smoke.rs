//! The pseudo-terminal driver works: bash in `aws-session shell` shows the prompt
//! prefix and exits with its own status.

use crate::common::{pty::Pty, Peer, Sandbox};
use std::time::Duration;

#[test]
fn bash_shell_on_a_pty_shows_the_prefix_and_passes_the_exit_status() {
    let peer = Peer::shared();
    let user = peer.create_user("pty", true);
    let sb = Sandbox::new();
    sb.write_credentials(&format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        user.access_key_id, user.secret_access_key
    ));
    let mut cmd = sb.command(peer);
    cmd.env("SHELL", crate::common::tool("bash"))
        .env("TERM", "xterm");
    let mut pty = Pty::spawn(cmd, 100, 30);
    pty.expect("6 digit MFA code: ", Duration::from_secs(20));
    pty.send_line(&user.totp(0));
    pty.expect("(aws+", Duration::from_secs(20));
    pty.send_line("exit 7");
    assert_eq!(pty.wait(Duration::from_secs(10)).code(), Some(7));
}
