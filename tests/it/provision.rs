//! `provision-mfa` against the peer (moto with signature checks on, and
//! EnableMFADevice checking two consecutive TOTP codes of the device's seed), on a
//! pseudo-terminal: the test reads the secret and the QR code off the screen as a
//! person would, computes the codes from what it read, and checks what AWS ends up
//! with (`GET /_peer/devices`).

use crate::common::{keys, pty::Pty, totp, Device, Peer, Sandbox, TestUser};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const T: Duration = Duration::from_secs(30);
const FIRST: &str = "Please enter the 1st 6 digit MFA code: ";
const SECOND: &str = "Please enter the 2nd 6 digit MFA code: ";
const ISSUER: &str = "Amazon%20Web%20Services";

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `provision-mfa` with `args` on a 100×40 terminal.
fn spawn(sb: &Sandbox, peer: &Peer, args: &[&str]) -> Pty {
    let mut cmd = sb.command(peer);
    cmd.env("TERM", "xterm").args(args).arg("provision-mfa");
    Pty::spawn(cmd, 100, 40)
}

/// Everything on screen once `last` (from the end of the final message) is there:
/// the child may have exited before the reader has seen all it wrote.
fn screen_until(pty: &mut Pty, last: &str) -> String {
    pty.expect(last, T);
    pty.output()
}

/// Virtual MFA devices named after `user` (assigned or not).
fn devices_of(peer: &Peer, user: &TestUser) -> Vec<Device> {
    let suffix = format!(":mfa/{}", user.user_name);
    peer.devices()
        .into_iter()
        .filter(|d| d.serial.ends_with(&suffix))
        .collect()
}

/// Actions the peer saw signed with the user's key.
fn actions_of(peer: &Peer, user: &TestUser) -> Vec<String> {
    peer.log()
        .into_iter()
        .filter(|r| r.access_key_id == user.access_key_id)
        .map(|r| r.action)
        .collect()
}

/// The secret shown in groups of four under "secret key:".
fn secret_on_screen(screen: &str) -> String {
    let after = screen
        .split("secret key:")
        .nth(1)
        .unwrap_or_else(|| panic!("no secret key on screen:\n{screen}"));
    let mut secret = String::new();
    for line in after.lines().map(str::trim) {
        if line.is_empty() && secret.is_empty() {
            continue;
        }
        let groups: Vec<&str> = line.split(' ').collect();
        let is_group = |g: &&str| {
            (1..=4).contains(&g.len())
                && g.bytes()
                    .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        };
        if line.is_empty() || !groups.iter().all(is_group) {
            break;
        }
        assert!(groups[..groups.len() - 1].iter().all(|g| g.len() == 4));
        secret.push_str(&groups.concat());
    }
    assert!(secret.len() >= 16, "secret {secret:?} from:\n{screen}");
    secret
}

/// Module rows (true = dark) of the QR code drawn with block characters, as a
/// light-on-dark terminal shows it: a block is the light foreground, a blank the
/// dark background.
fn blocks_on_screen(screen: &str) -> Vec<Vec<bool>> {
    let lines: Vec<&str> = screen
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .skip_while(|l| !is_block_line(l))
        .take_while(|l| is_block_line(l))
        .collect();
    assert!(lines.len() > 10, "no QR code on screen:\n{screen}");
    let mut rows = Vec::new();
    for line in lines {
        let (mut top, mut bottom) = (Vec::new(), Vec::new());
        for c in line.chars() {
            let (t, b) = match c {
                '█' => (false, false),
                '▀' => (false, true),
                '▄' => (true, false),
                _ => (true, true),
            };
            top.push(t);
            bottom.push(b);
        }
        rows.push(top);
        rows.push(bottom);
    }
    rows
}

fn is_block_line(l: &str) -> bool {
    !l.is_empty()
        && l.chars().any(|c| c != ' ')
        && l.chars().all(|c| matches!(c, '█' | '▀' | '▄' | ' '))
}

/// Module rows (true = dark) of the QR code drawn with `--qr-ansi`: `▀` with the
/// upper module in the foreground colour and the lower one in the background colour.
fn ansi_on_screen(screen: &str) -> Vec<Vec<bool>> {
    let mut rows = Vec::new();
    for line in screen
        .split('\n')
        .filter(|l| l.contains("\x1b[") && l.contains('▀'))
    {
        let (mut top, mut bottom) = (Vec::new(), Vec::new());
        let (mut fg, mut bg) = (0u32, 0u32);
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\x1b' => {
                    let seq: String = chars.by_ref().take_while(|&c| c != 'm').collect();
                    let nums: Vec<u32> = seq
                        .trim_start_matches('[')
                        .split(';')
                        .filter_map(|n| n.parse().ok())
                        .collect();
                    for n in nums {
                        match n {
                            30..=37 | 90..=97 => fg = n,
                            40..=47 | 49 | 100..=107 => bg = n,
                            0 => (fg, bg) = (0, 0),
                            _ => {}
                        }
                    }
                }
                '▀' => {
                    top.push(fg != 97);
                    // 49: the terminal's own (dark) background below the drawing.
                    bottom.push(bg != 107);
                }
                _ => {}
            }
        }
        rows.push(top);
        rows.push(bottom);
    }
    assert!(rows.len() > 20, "no ANSI QR code on screen:\n{screen:?}");
    rows
}

/// Decode modules with rqrr, as a camera would see them: 4 pixels a module, on a
/// margin of dark terminal background, so the drawn quiet zone is all there is.
fn decode(rows: &[Vec<bool>]) -> String {
    const PX: usize = 4;
    const MARGIN: usize = 12;
    let h = rows.len() * PX + 2 * MARGIN;
    let w = rows.iter().map(Vec::len).max().unwrap() * PX + 2 * MARGIN;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        let dark = if x < MARGIN || y < MARGIN {
            true
        } else {
            rows.get((y - MARGIN) / PX)
                .and_then(|r| r.get((x - MARGIN) / PX))
                .copied()
                .unwrap_or(true)
        };
        if dark {
            20
        } else {
            235
        }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code should be found");
    grids[0].decode().expect("the QR code decodes").1
}

/// Two consecutive codes, as an app shows them now: the previous step's and this one's.
fn codes_for(seed: &str) -> (String, String) {
    let now = unix_now();
    (totp(seed, now - 30), totp(seed, now))
}

fn expected_uri(user: &TestUser, seed: &str) -> String {
    format!(
        "otpauth://totp/{ISSUER}:{}@{}?secret={seed}&issuer={ISSUER}",
        user.user_name, user.account_id
    )
}

/// Every file under `dir`, as bytes.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            out.extend(files_under(&path));
        } else if meta.is_file() {
            out.push((path.clone(), fs::read(&path).unwrap()));
        }
    }
    out
}

#[test]
fn provisions_from_the_screen_qr_decodes_to_the_uri_and_answer_no_writes_nothing() {
    let peer = Peer::shared();
    let user = peer.create_user("prov", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let mut pty = spawn(&sb, peer, &[]);
    let screen = pty.expect(FIRST, T);

    let seed = secret_on_screen(&screen);
    let uri = decode(&blocks_on_screen(&screen));
    assert_eq!(uri, expected_uri(&user, &seed));
    // The QR code fits 80 columns, with its light quiet zone of 2 modules.
    let rows = blocks_on_screen(&screen);
    assert!(rows[0].len() <= 80);
    for r in &rows[..2] {
        assert!(r.iter().all(|dark| !dark), "top quiet zone");
    }
    for r in &rows[..rows.len() - 1] {
        assert!(
            !r[0] && !r[1] && !r[r.len() - 1] && !r[r.len() - 2],
            "side quiet zone"
        );
    }

    // The device exists, not yet enabled, with the seed shown.
    let devices = devices_of(peer, &user);
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].seed, seed, "the screen shows the device's seed");
    assert!(!devices[0].enabled);

    // Malformed codes are asked again.
    pty.send_line("12345");
    pty.expect("Not a valid code: it must be 6 digits", T);
    pty.expect(FIRST, T);
    let (code1, code2) = codes_for(&seed);
    pty.send_line(&code1);
    pty.expect(SECOND, T);
    pty.send_line("abcdef");
    pty.expect(SECOND, T);
    pty.send_line(&code2);
    pty.expect("[y/N] ", T);
    pty.send_line("n");
    pty.expect("add this line to [default]", T);
    let status = pty.wait(T);
    assert_eq!(status.code(), Some(0), "{}", pty.output());

    let devices = devices_of(peer, &user);
    assert_eq!(devices.len(), 1);
    assert!(devices[0].enabled, "enabled: {devices:?}");
    assert_eq!(devices[0].user.as_deref(), Some(user.user_name.as_str()));
    let out = pty.output();
    assert!(out.contains(&format!("MFA device {} is enabled", devices[0].serial)));
    assert!(out.contains(&format!("mfa_serial = {}", devices[0].serial)));
    assert!(!sb.config_file.exists(), "\"n\" writes nothing");
    assert_eq!(
        actions_of(peer, &user),
        [
            "GetCallerIdentity",
            "ListMFADevices",
            "CreateVirtualMFADevice",
            "EnableMFADevice"
        ]
    );
}

#[test]
fn answer_yes_creates_the_config_file_0600() {
    let peer = Peer::shared();
    let user = peer.create_user("prov-yes", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let mut pty = spawn(&sb, peer, &[]);
    let screen = pty.expect(FIRST, T);
    let seed = secret_on_screen(&screen);
    let (code1, code2) = codes_for(&seed);
    pty.send_line(&code1);
    pty.expect(SECOND, T);
    pty.send_line(&code2);
    pty.expect("[y/N] ", T);
    pty.send_line("y");
    assert_eq!(pty.wait(T).code(), Some(0), "{}", pty.output());
    let serial = &devices_of(peer, &user)[0].serial;
    assert_eq!(
        fs::read_to_string(&sb.config_file).unwrap(),
        format!("[default]\nmfa_serial = {serial}\n")
    );
    let mode = fs::metadata(&sb.config_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn ctrl_c_at_the_save_question_keeps_the_device_and_says_what_to_add() {
    let peer = Peer::shared();
    let user = peer.create_user("prov-q", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let mut pty = spawn(&sb, peer, &[]);
    let screen = pty.expect(FIRST, T);
    let (code1, code2) = codes_for(&secret_on_screen(&screen));
    pty.send_line(&code1);
    pty.expect(SECOND, T);
    pty.send_line(&code2);
    pty.expect("[y/N] ", T);
    pty.send("\x03");
    assert_eq!(pty.wait(T).code(), Some(130), "{}", pty.output());
    let devices = devices_of(peer, &user);
    assert!(devices[0].enabled, "the enabled device stays");
    screen_until(
        &mut pty,
        &format!("add \"mfa_serial = {}\"", devices[0].serial),
    );
    assert!(!sb.config_file.exists());
}

#[test]
fn save_edits_only_its_line_keeps_the_mode_and_never_shows_the_seed_in_debug() {
    let peer = Peer::shared();
    let user = peer.create_user("prov-save", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("dev", &user));
    let config = "# my AWS config\r\n[default]\r\nregion = us-east-1   # home\r\n\r\n\
                  [profile dev]\r\nregion = eu-west-1\r\n; a note\r\noutput = json\r\n\r\n\
                  [profile other]\r\nmfa_serial = arn:aws:iam::123456789012:mfa/someone-else\r\n";
    sb.write_config(config);
    fs::set_permissions(&sb.config_file, fs::Permissions::from_mode(0o640)).unwrap();

    let mut pty = spawn(&sb, peer, &["--profile", "dev", "--save", "--debug"]);
    let screen = pty.expect(FIRST, T);
    let seed = secret_on_screen(&screen);
    let (code1, code2) = codes_for(&seed);
    pty.send_line(&code1);
    pty.expect(SECOND, T);
    pty.send_line(&code2);
    assert_eq!(pty.wait(T).code(), Some(0), "{}", pty.output());

    let devices = devices_of(peer, &user);
    assert!(devices[0].enabled);
    let serial = &devices[0].serial;
    let want = config.replace(
        "output = json\r\n",
        &format!("output = json\r\nmfa_serial = {serial}\r\n"),
    );
    assert_eq!(fs::read_to_string(&sb.config_file).unwrap(), want);
    let mode = fs::metadata(&sb.config_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640, "the mode is kept");

    let out = screen_until(&mut pty, "Wrote \"mfa_serial = ");
    assert!(out.contains("aws-session: debug: "), "debug is on: {out}");
    assert!(
        !out.contains(&seed),
        "the seed shows only grouped, never in one piece (debug included)"
    );
    for (path, bytes) in files_under(sb.home.path()) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&seed),
            "{} holds the seed",
            path.display()
        );
    }
    // Nothing left next to the config file.
    let names: Vec<_> = fs::read_dir(sb.config_file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn save_refuses_a_symlinked_config_and_says_what_to_add() {
    let peer = Peer::shared();
    let user = peer.create_user("prov-link", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let real = sb.home.path().join("real-config");
    fs::write(&real, "[default]\nregion = us-east-1\n").unwrap();
    std::os::unix::fs::symlink(&real, &sb.config_file).unwrap();

    let mut pty = spawn(&sb, peer, &["--save"]);
    let screen = pty.expect(FIRST, T);
    let (code1, code2) = codes_for(&secret_on_screen(&screen));
    pty.send_line(&code1);
    pty.expect(SECOND, T);
    pty.send_line(&code2);
    assert_eq!(pty.wait(T).code(), Some(6), "{}", pty.output());
    let out = screen_until(&mut pty, "yourself");
    assert!(out.contains("symbolic link"), "{out}");
    let serial = &devices_of(peer, &user)[0].serial;
    assert!(out.contains(&format!("mfa_serial = {serial}")), "{out}");
    assert_eq!(
        fs::read_to_string(&real).unwrap(),
        "[default]\nregion = us-east-1\n"
    );
    assert!(fs::symlink_metadata(&sb.config_file)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn wrong_codes_delete_the_device_exit_3() {
    let peer = Peer::shared();
    let user = peer.create_user("prov-wrong", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let mut pty = spawn(&sb, peer, &[]);
    let screen = pty.expect(FIRST, T);
    let seed = secret_on_screen(&screen);
    // Consecutive, but ten minutes from now.
    let later = unix_now() + 600;
    pty.send_line(&totp(&seed, later));
    pty.expect(SECOND, T);
    pty.send_line(&totp(&seed, later + 30));
    assert_eq!(pty.wait(T).code(), Some(3), "{}", pty.output());
    let out = screen_until(&mut pty, "nothing is left behind");
    assert!(out.contains("AWS refused the two codes"), "{out}");
    assert!(out.contains("was deleted again"), "{out}");
    assert!(devices_of(peer, &user).is_empty(), "no device left behind");
    assert_eq!(
        actions_of(peer, &user)[2..],
        [
            "CreateVirtualMFADevice",
            "EnableMFADevice",
            "DeleteVirtualMFADevice"
        ]
    );
}

#[test]
fn ctrl_c_at_the_prompt_deletes_the_device_exit_130_and_ansi_qr_decodes() {
    let peer = Peer::shared();
    let user = peer.create_user("prov-int", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let mut pty = spawn(&sb, peer, &["--qr-ansi"]);
    let screen = pty.expect(FIRST, T);
    let seed = secret_on_screen(&screen);
    assert_eq!(decode(&ansi_on_screen(&screen)), expected_uri(&user, &seed));
    assert_eq!(devices_of(peer, &user).len(), 1);
    pty.send("\x03");
    assert_eq!(pty.wait(T).code(), Some(130), "{}", pty.output());
    let out = screen_until(&mut pty, "nothing is left behind");
    assert!(out.contains("interrupted by Ctrl-C"), "{out}");
    assert!(out.contains("was deleted again"), "{out}");
    assert!(devices_of(peer, &user).is_empty(), "no device left behind");
}

#[test]
fn sigterm_at_the_2nd_code_deletes_the_device_exit_130() {
    let peer = Peer::shared();
    let user = peer.create_user("prov-term", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let mut pty = spawn(&sb, peer, &[]);
    let screen = pty.expect(FIRST, T);
    let (code1, _) = codes_for(&secret_on_screen(&screen));
    pty.send_line(&code1);
    pty.expect(SECOND, T);
    // SAFETY: a signal to our own child; kill(2) takes plain integers.
    let rc = unsafe { libc::kill(pty.pid() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
    assert_eq!(pty.wait(T).code(), Some(130), "{}", pty.output());
    let out = screen_until(&mut pty, "nothing is left behind");
    assert!(out.contains("interrupted by SIGTERM"), "{out}");
    assert!(out.contains("was deleted again"), "{out}");
    assert!(devices_of(peer, &user).is_empty(), "no device left behind");
}

#[test]
fn end_of_input_at_the_2nd_code_deletes_the_device_exit_3() {
    let peer = Peer::shared();
    let user = peer.create_user("prov-eof", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let mut pty = spawn(&sb, peer, &[]);
    let screen = pty.expect(FIRST, T);
    let (code1, _) = codes_for(&secret_on_screen(&screen));
    pty.send_line(&code1);
    pty.expect(SECOND, T);
    pty.send("\x04");
    assert_eq!(pty.wait(T).code(), Some(3), "{}", pty.output());
    let out = screen_until(&mut pty, "nothing is left behind");
    assert!(out.contains("end of input"), "{out}");
    assert!(out.contains("was deleted again"), "{out}");
    assert!(devices_of(peer, &user).is_empty(), "no device left behind");
    assert!(!actions_of(peer, &user).contains(&"EnableMFADevice".to_string()));
}

#[test]
fn a_user_with_a_device_is_refused_exit_10_and_nothing_is_created() {
    let peer = Peer::shared();
    let user = peer.create_user("prov-has", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let mut pty = spawn(&sb, peer, &[]);
    assert_eq!(pty.wait(T).code(), Some(10), "{}", pty.output());
    let out = screen_until(&mut pty, "delete-virtual-mfa-device)");
    assert!(
        out.contains(&format!(
            "IAM user '{}' already has an MFA device configured",
            user.user_name
        )),
        "{out}"
    );
    assert_eq!(devices_of(peer, &user).len(), 1);
    assert_eq!(
        actions_of(peer, &user),
        ["GetCallerIdentity", "ListMFADevices"]
    );
}

/// `--profile bob` provisions bob, even with alice's keys in the environment (as every
/// command does): bob already has a device, so it stops there, and alice's keys sign
/// nothing.
#[test]
fn a_named_profile_wins_over_keys_in_the_environment() {
    let peer = Peer::shared();
    let alice = peer.create_user("prov-env-a", false);
    let bob = peer.create_user("prov-env-b", true);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("bob", &bob));
    let mut cmd = sb.command(peer);
    cmd.env("TERM", "xterm")
        .env("AWS_ACCESS_KEY_ID", &alice.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &alice.secret_access_key)
        .args(["--profile", "bob", "provision-mfa"]);
    let mut pty = Pty::spawn(cmd, 100, 40);
    assert_eq!(pty.wait(T).code(), Some(10), "{}", pty.output());
    let out = screen_until(&mut pty, "delete-virtual-mfa-device)");
    assert!(
        out.contains(&format!("IAM user '{}' already has", bob.user_name)),
        "{out}"
    );
    assert!(actions_of(peer, &alice).is_empty());
    assert!(devices_of(peer, &alice).is_empty());
}

#[test]
fn without_a_terminal_nothing_is_created_exit_3() {
    let peer = Peer::shared();
    let user = peer.create_user("prov-notty", false);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let out = sb.command(peer).arg("provision-mfa").output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a terminal"));
    assert!(actions_of(peer, &user).is_empty());
    assert!(devices_of(peer, &user).is_empty());
}

#[test]
fn role_credentials_are_refused_with_a_clear_error_exit_2() {
    let peer = Peer::shared();
    let user = peer.create_user("prov-role", false);
    let role = peer.create_role("prov-role", 3600, &[]);
    let sb = Sandbox::new();
    sb.write_credentials(&keys("default", &user));
    let out = sb
        .aws(peer)
        .args([
            "sts",
            "assume-role",
            "--role-arn",
            &role.arn,
            "--role-session-name",
            "prov-test",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &v["Credentials"];
    let mut cmd = sb.command(peer);
    cmd.env("TERM", "xterm")
        .env("AWS_ACCESS_KEY_ID", c["AccessKeyId"].as_str().unwrap())
        .env(
            "AWS_SECRET_ACCESS_KEY",
            c["SecretAccessKey"].as_str().unwrap(),
        )
        .env("AWS_SESSION_TOKEN", c["SessionToken"].as_str().unwrap())
        .arg("provision-mfa");
    let mut pty = Pty::spawn(cmd, 100, 40);
    assert_eq!(pty.wait(T).code(), Some(2), "{}", pty.output());
    let text = screen_until(&mut pty, "AWS_SECRET_ACCESS_KEY)");
    assert!(text.contains("assumed-role"), "{text}");
    assert!(text.contains("IAM user's own access keys"), "{text}");
    assert!(peer
        .devices()
        .iter()
        .all(|d| !d.serial.contains(&role.role_name)));
}
