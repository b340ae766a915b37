//! The one retry-with-a-new-code loop: a code is asked for, the request that carries
//! it is sent once, and a refused code is followed by the next one, never resent.

use super::cached::Cached;
use crate::aws::client::Client;
use crate::aws::query::Service;
use crate::cache::Entry;
use crate::error::{AwsError, Error, Result};
use crate::msg;
use crate::tty::CodeSource;
use std::cell::RefCell;

/// Ask `codes` for a code and run `attempt` with it and the device's serial. While
/// a person types the code the cache lock is let go and the connection to STS is
/// made (nothing is sent on it before the code is there); once the code is back,
/// `recheck` looks at the cache again, and a session another run stored meanwhile
/// is used instead of spending the code. `serial` gives the device after the code
/// is read (it may be discovered meanwhile; its failure is the error then, and
/// the code is not sent). A code AWS refuses is never sent again: while the source
/// can give another one (up to [`CODE_TRIES`]: the person at the terminal, or an
/// mfa_process once the next 30-second window has begun) the next code is asked
/// for, else the refusal is the error.
pub(super) fn with_code<T>(
    cache: &RefCell<Cached<'_>>,
    client: &Client,
    codes: &mut dyn CodeSource,
    serial: &mut dyn FnMut() -> Result<String>,
    mut recheck: impl FnMut() -> Option<Entry>,
    mut attempt: impl FnMut(&str, &str) -> Result<T>,
) -> Result<Coded<T>> {
    let mut tries = 0;
    loop {
        tries += 1;
        let person = codes.asks_a_person();
        if person {
            cache.borrow_mut().unlock();
        }
        // Lives until the request is sent: it takes the connection made meanwhile.
        let _warm = if person {
            client.warm(Service::Sts)
        } else {
            None
        };
        let code = codes.next_code("your")?;
        if person {
            cache.borrow_mut().relock();
            if let Some(found) = recheck() {
                msg::debug(format_args!(
                    "cache: another run stored the session while the code was typed: the code is not used"
                ));
                return Ok(Coded::Cached(Box::new(found)));
            }
        }
        let serial = serial()?;
        match attempt(&serial, &code) {
            Ok(answer) => return Ok(Coded::Answer(answer)),
            Err(Error::Aws(e)) if e.is_code_rejected() => {
                if tries < CODE_TRIES && codes.can_ask_again() {
                    // The source may wait for the next 30-second window: not under
                    // the lock.
                    if codes.asks_a_person() {
                        cache.borrow_mut().unlock();
                    }
                    codes.refused(e.message.trim())?;
                    continue;
                }
                return Err(code_refused(&serial, &e));
            }
            Err(e) => return Err(e),
        }
    }
}

/// What a request with a code gave: AWS's answer, or the session another run stored
/// while the person typed the code (which then was not sent).
pub(super) enum Coded<T> {
    Answer(T),
    Cached(Box<Entry>),
}

/// How many codes a run asks for before it gives up on a device.
pub(super) const CODE_TRIES: u32 = 3;

fn code_refused(serial: &str, e: &AwsError) -> Error {
    Error::MfaCode(format!(
        "AWS refused the MFA code for {serial}: {}: {} (enter a current code that was not used before; check the device's clock and that mfa_serial is this user's device)",
        e.code,
        e.message.trim()
    ))
}
