//! Frames are checked before pgwire decodes them, once the connection is
//! past its startup: a declared length below 4 or above the cap, or an
//! unknown message type, ends the connection with FATAL 08P01 (as in
//! PostgreSQL, which can no longer tell where the next message starts); a
//! Query whose text lacks its terminator or is not UTF-8 gets an ERROR
//! (08P01 or 22021) and the session goes on; an extended-protocol message
//! whose fields do not add up to its length gets ERROR 08P01 and the
//! connection waits for Sync. pgwire would otherwise read a short length
//! as an empty message, turn bad bytes into U+FFFD, and read past the end
//! of a short Parse or Bind (a panic).

use pgwire::error::ErrorInfo;
use tokio::io::AsyncReadExt;

/// The largest message a client may send: 256 MiB (PostgreSQL allows 1 GB
/// for a query; a node holds whole messages in memory, one per client).
pub const MAX_MESSAGE: usize = 256 << 20;

/// The message types a client may send after startup.
const KNOWN: &[u8] = b"QPBEDCHSXdcfp";

/// What the next buffered frame is.
pub enum Screened {
    /// A whole frame, for pgwire to decode.
    Whole,
    /// The connection ended.
    Closed,
    /// Refused: the error, whether it ends the connection, and (for one
    /// that does not) how many bytes to drop and whether the connection
    /// then waits for Sync (an extended-protocol message).
    Refused {
        error: Box<ErrorInfo>,
        fatal: bool,
        skip: usize,
        extended: bool,
    },
}

fn error(severity: &str, code: &str, message: String) -> Box<ErrorInfo> {
    Box::new(ErrorInfo::new(severity.into(), code.into(), message))
}

/// The largest message a client may send while it logs in: PostgreSQL's
/// cap on an authentication packet.
const MAX_AUTH_MESSAGE: usize = 65535;

/// Where a connection is once past its startup packet: logging in (only
/// password messages may come), or logged in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Authenticating,
    Ready,
}

/// Check the frame at the head of `buf` of a logged-in connection: `None`
/// when more bytes are needed.
pub fn check(buf: &[u8]) -> Option<Screened> {
    check_in(buf, Phase::Ready)
}

/// [`check`] for a connection in `phase`. While it logs in, anything but a
/// password message (SASL's too) ends it with FATAL 08P01, as in
/// PostgreSQL, and so does a message over 64 KiB (PostgreSQL's cap too,
/// but it logs "invalid message length" and tells the client 28P01
/// "password authentication failed").
pub fn check_in(buf: &[u8], phase: Phase) -> Option<Screened> {
    let header = buf.get(..5)?;
    let tag = header[0];
    let (known, max) = match phase {
        Phase::Authenticating => (&b"p"[..], MAX_AUTH_MESSAGE),
        Phase::Ready => (KNOWN, MAX_MESSAGE),
    };
    if !known.contains(&tag) {
        let message = match phase {
            Phase::Authenticating => format!("expected SASL response, got message type {tag}"),
            Phase::Ready => format!("invalid frontend message type {tag}"),
        };
        return Some(Screened::Refused {
            error: error("FATAL", "08P01", message),
            fatal: true,
            skip: 0,
            extended: false,
        });
    }
    let len = i32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    let len = match usize::try_from(len) {
        Ok(l) if (4..=max).contains(&l) => l,
        _ => {
            return Some(Screened::Refused {
                error: error("FATAL", "08P01", "invalid message length".into()),
                fatal: true,
                skip: 0,
                extended: false,
            })
        }
    };
    let frame = buf.get(..len + 1)?;
    if tag != b'Q' {
        if well_formed(tag, &frame[5..]) {
            return Some(Screened::Whole);
        }
        return Some(Screened::Refused {
            error: error("ERROR", "08P01", "invalid message format".into()),
            fatal: false,
            skip: len + 1,
            extended: true,
        });
    }
    let text = &frame[5..];
    let refused = |error| {
        Some(Screened::Refused {
            error,
            fatal: false,
            skip: len + 1,
            extended: false,
        })
    };
    match text.split_last() {
        Some((0, body)) if !body.contains(&0) => match std::str::from_utf8(body) {
            Ok(_) => Some(Screened::Whole),
            Err(e) => {
                let at = e.valid_up_to();
                let bad: String = body[at..]
                    .iter()
                    .take(e.error_len().unwrap_or(1).max(1))
                    .map(|b| format!("{b:02x}"))
                    .collect();
                refused(error(
                    "ERROR",
                    "22021",
                    format!("invalid byte sequence for encoding \"UTF8\": 0x{bad}"),
                ))
            }
        },
        _ => refused(error("ERROR", "08P01", "invalid string in message".into())),
    }
}

/// The fields of a message body, read front to back.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn take(&mut self, n: usize) -> Option<()> {
        self.0 = self.0.get(n..)?;
        Some(())
    }
    fn cstring(&mut self) -> Option<()> {
        let end = self.0.iter().position(|&b| b == 0)?;
        self.take(end + 1)
    }
    fn i16(&mut self) -> Option<i16> {
        let v = i16::from_be_bytes([*self.0.first()?, *self.0.get(1)?]);
        self.take(2)?;
        Some(v)
    }
    fn i32(&mut self) -> Option<i32> {
        let b = self.0.get(..4)?;
        let v = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        self.take(4)?;
        Some(v)
    }
    /// A count, then that many items read by `item`.
    fn each(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        let n = self.i16()?;
        for _ in 0..usize::try_from(n).ok()? {
            item(self)?;
        }
        Some(())
    }
}

/// Whether an extended-protocol message's fields fill its body exactly.
fn well_formed(tag: u8, body: &[u8]) -> bool {
    let mut f = Fields(body);
    let read = match tag {
        // Parse: name, query, parameter type oids.
        b'P' => f
            .cstring()
            .and_then(|()| f.cstring())
            .and_then(|()| f.each(|f| f.i32().map(|_| ()))),
        // Bind: portal, statement, formats, values, result formats.
        b'B' => f
            .cstring()
            .and_then(|()| f.cstring())
            .and_then(|()| f.each(|f| f.i16().map(|_| ())))
            .and_then(|()| {
                f.each(|f| match f.i32()? {
                    -1 => Some(()),
                    n => f.take(usize::try_from(n).ok()?),
                })
            })
            .and_then(|()| f.each(|f| f.i16().map(|_| ()))),
        // Describe, Close: a kind and a name.
        b'D' | b'C' => f.take(1).and_then(|()| f.cstring()),
        // Execute: a portal and a row limit.
        b'E' => f.cstring().and_then(|()| f.i32().map(|_| ())),
        // CopyFail: a message.
        b'f' => f.cstring(),
        _ => return true,
    };
    read.is_some() && f.0.is_empty()
}

/// The first message of a SASL login as pgwire reads it, once its fields
/// fill its body exactly: pgwire reads past the end of a short one.
pub fn sasl_initial(
    message: pgwire::messages::startup::PasswordMessageFamily,
) -> pgwire::error::PgWireResult<pgwire::messages::startup::SASLInitialResponse> {
    if let pgwire::messages::startup::PasswordMessageFamily::Raw(body) = &message {
        if !sasl_initial_well_formed(body) {
            return Err(pgwire::error::PgWireError::InvalidScramMessage(
                "malformed SASLInitialResponse".into(),
            ));
        }
    }
    message.into_sasl_initial_response()
}

/// Whether a SASLInitialResponse body (mechanism, then a length and that
/// many bytes, or -1) fills its body exactly: pgwire reads past a short one.
pub fn sasl_initial_well_formed(body: &[u8]) -> bool {
    let mut f = Fields(body);
    let read = f.cstring().and_then(|()| match f.i32()? {
        -1 => Some(()),
        n => f.take(usize::try_from(n).ok()?),
    });
    read.is_some() && f.0.is_empty()
}

/// Every check a frame after the startup meets, then pgwire's decoder on
/// a frame they pass whole. Nothing here may panic, whatever `frame` is:
/// the proptest below and the fuzz target `frames` (`fuzz/`) hold it to
/// that.
pub fn exercise(frame: &[u8]) {
    if let Some(Screened::Whole) = check(frame) {
        let _ = decode_after_startup(frame);
    }
}

/// pgwire's decoding of `bytes` as a message after the startup packet.
fn decode_after_startup(
    bytes: &[u8],
) -> pgwire::error::PgWireResult<Option<pgwire::messages::PgWireFrontendMessage>> {
    let mut ctx = pgwire::messages::DecodeContext::default();
    ctx.awaiting_frontend_ssl = false;
    ctx.awaiting_frontend_startup = false;
    pgwire::messages::PgWireFrontendMessage::decode(&mut bytes::BytesMut::from(bytes), &ctx)
}

/// What the startup phase does with `bytes`: pgwire's decoders for the
/// SSL/GSS request and the startup packet (which it checks itself), then,
/// as a message of the login, the checks of [`Phase::Authenticating`],
/// pgwire's decoder and [`sasl_initial`] (what the login runs) on what
/// they pass. The fuzz target `startup` runs it.
pub fn exercise_startup(bytes: &[u8]) {
    use pgwire::messages::{DecodeContext, PgWireFrontendMessage};
    for ssl in [true, false] {
        let mut ctx = DecodeContext::default();
        ctx.awaiting_frontend_ssl = ssl;
        let _ = PgWireFrontendMessage::decode(&mut bytes::BytesMut::from(bytes), &ctx);
    }
    if let Some(Screened::Whole) = check_in(bytes, Phase::Authenticating) {
        if let Ok(Some(PgWireFrontendMessage::PasswordMessageFamily(p))) =
            decode_after_startup(bytes)
        {
            let _ = sasl_initial(p);
        }
    }
}

/// What arrives next on a connection.
pub enum Incoming {
    /// As pgwire decoded it (`None`: the connection ended).
    Message(Option<pgwire::error::PgWireResult<pgwire::messages::PgWireFrontendMessage>>),
    /// A frame refused before decoding (see [`Screened::Refused`]).
    Refused {
        error: Box<ErrorInfo>,
        fatal: bool,
        skip: usize,
        extended: bool,
    },
}

/// The next message: before and in the startup packet straight from
/// pgwire (`phase` None), after it screened first.
pub async fn incoming<T, C>(
    socket: &mut tokio_util::codec::Framed<T, C>,
    phase: Option<Phase>,
) -> std::io::Result<Incoming>
where
    T: tokio::io::AsyncRead + Unpin,
    tokio_util::codec::Framed<T, C>: futures::Stream<Item = pgwire::error::PgWireResult<pgwire::messages::PgWireFrontendMessage>>
        + Unpin,
{
    use futures::StreamExt;
    if let Some(phase) = phase {
        match next(socket, phase).await? {
            Screened::Whole => {}
            Screened::Closed => return Ok(Incoming::Message(None)),
            Screened::Refused {
                error,
                fatal,
                skip,
                extended,
            } => {
                return Ok(Incoming::Refused {
                    error,
                    fatal,
                    skip,
                    extended,
                })
            }
        }
    }
    Ok(Incoming::Message(socket.next().await))
}

/// Wait until `socket`'s buffer holds a whole frame (or the connection
/// ends), reading as needed, and say what it is. Cancel-safe: the only
/// await is a read, whose bytes are buffered as soon as it returns.
pub async fn next<T, C>(
    socket: &mut tokio_util::codec::Framed<T, C>,
    phase: Phase,
) -> std::io::Result<Screened>
where
    T: tokio::io::AsyncRead + Unpin,
{
    loop {
        if let Some(s) = check_in(socket.read_buffer(), phase) {
            return Ok(s);
        }
        let mut chunk = [0u8; 8192];
        let n = socket.get_mut().read(&mut chunk).await?;
        if n == 0 {
            return Ok(Screened::Closed);
        }
        socket.read_buffer_mut().extend_from_slice(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever bytes arrive, the checks answer without panicking, and
        /// a frame they pass as whole is one pgwire can decode without
        /// reading past its end.
        #[test]
        fn any_bytes_are_judged_without_a_panic(tag in proptest::sample::select(b"QPBEDCHSXdcfp!".to_vec()),
                                                body in proptest::collection::vec(any::<u8>(), 0..64),
                                                declared in proptest::option::of(any::<i32>())) {
            let mut f = vec![tag];
            let len = declared.unwrap_or((body.len() + 4) as i32);
            f.extend_from_slice(&len.to_be_bytes());
            f.extend_from_slice(&body);
            exercise(&f);
            exercise_startup(&f);
        }
    }

    /// Found by the `startup` fuzz target: a one-byte password message
    /// followed by other bytes. The SASL check must look at the message's
    /// own body, not at what follows it in the buffer.
    #[test]
    fn a_short_password_message_before_other_bytes() {
        exercise_startup(&[
            0x70, 0, 0, 0, 5, 0xd2, 1, 0xfe, 0xff, 0xff, 0xb3, 0xb3, 0xb3, 0xff, 0xff, 4, 0xd2,
            0x16, 0x2e, 0, 0, 0, 0, 0,
        ]);
    }

    fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut f = vec![tag];
        f.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        f.extend_from_slice(body);
        f
    }

    fn code(s: Option<Screened>) -> String {
        match s {
            Some(Screened::Refused { error, .. }) => error.code,
            Some(Screened::Whole) => "whole".into(),
            Some(Screened::Closed) => "closed".into(),
            None => "more".into(),
        }
    }

    #[test]
    fn frames_are_judged_before_decoding() {
        assert_eq!(code(check(&frame(b'Q', b"SELECT 1\0"))), "whole");
        assert_eq!(code(check(&frame(b'Q', b"SELECT 1\0")[..6])), "more");
        assert_eq!(code(check(b"Q\0\0\0\x02")), "08P01");
        assert_eq!(code(check(b"Q\x7f\xff\xff\xff")), "08P01");
        assert_eq!(code(check(b"Q\xff\xff\xff\xff")), "08P01");
        assert_eq!(code(check(&frame(b'!', b""))), "08P01");
        assert_eq!(code(check(&frame(b'Q', b"SELECT 1"))), "08P01");
        assert_eq!(code(check(&frame(b'Q', b"SELECT\0 1\0"))), "08P01");
        assert_eq!(code(check(&frame(b'Q', b"SELECT '\xff'\0"))), "22021");
        assert_eq!(code(check(&frame(b'S', b""))), "whole");
        assert_eq!(code(check(&frame(b'B', b"\0s1\0\0\0\0\0\0\0"))), "whole");
        assert_eq!(code(check(&frame(b'B', b"\0s1\0\0\x01"))), "08P01");
        assert_eq!(
            code(check(&frame(b'B', b"\0\0\0\0\0\x01\0\0\0\x09ab\0\0"))),
            "08P01"
        );
        assert_eq!(code(check(&frame(b'P', b"\0SELECT 1\0\0\0"))), "whole");
        assert_eq!(
            code(check(&frame(b'P', b"\0SELECT 1\0\0\x02\0\0"))),
            "08P01"
        );
        assert_eq!(code(check(&frame(b'E', b"\0\0\0\0\0extra"))), "08P01");
    }
}
