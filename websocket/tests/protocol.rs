//! The protocol core against RFC 6455 and RFC 7692, from raw bytes: Tornado's mask and key tests
//! (`websocket_test.py`), every decoder rule with its close code, fragmentation, split input and
//! round trips; permessage-deflate (compressed frames, the bomb, negotiation) in `protocol/deflate.rs`.

#[cfg(feature = "deflate")]
#[path = "protocol/deflate.rs"]
mod deflate;

use typhoon_websocket::handshake::accept_key;
use typhoon_websocket::{
    CloseFrame, Decoder, Encoder, Event, Message, OpCode, ProtocolError, Role, apply_mask,
    encode_header, websocket_mask,
};

pub(crate) const MASK: [u8; 4] = [0x37, 0xFA, 0x21, 0x3D];

/// A frame as a client sends it (masked) or a server (not), with any header bits.
pub(crate) fn raw_frame(
    fin: bool,
    rsv: u8,
    opcode: u8,
    payload: &[u8],
    mask: Option<[u8; 4]>,
) -> Vec<u8> {
    let mut header = [0; 14];
    let n = encode_header(
        &mut header,
        fin,
        false,
        OpCode::Binary,
        payload.len() as u64,
        mask,
    );
    header[0] = (u8::from(fin) << 7) | (rsv << 4) | opcode;
    let mut out = header[..n].to_vec();
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(mask) = mask {
        apply_mask(&mut out[start..], mask, 0);
    }
    out
}

/// A masked frame, as a server receives it.
pub(crate) fn client_frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8]) -> Vec<u8> {
    raw_frame(fin, rsv, opcode, payload, Some(MASK))
}

/// Decodes all of `input` in one call sequence; the events, or the first error.
pub(crate) fn decode_all(
    decoder: &mut Decoder,
    mut input: &[u8],
) -> Result<Vec<Event>, ProtocolError> {
    let mut events = Vec::new();
    loop {
        let (used, event) = decoder.decode(input)?;
        input = &input[used..];
        match event {
            Some(event) => events.push(event),
            None if used == 0 => return Ok(events),
            None => {}
        }
    }
}

/// Feeds `input` one byte at a time.
pub(crate) fn decode_bytewise(
    decoder: &mut Decoder,
    input: &[u8],
) -> Result<Vec<Event>, ProtocolError> {
    let mut events = Vec::new();
    for byte in input.chunks(1) {
        events.extend(decode_all(decoder, byte)?);
    }
    Ok(events)
}

pub(crate) fn server() -> Decoder {
    Decoder::new(Role::Server, 1024)
}

/// The error and its close code for `input` sent to a fresh server decoder.
pub(crate) fn server_error(decoder: &mut Decoder, input: &[u8]) -> (ProtocolError, u16) {
    let err = decode_all(decoder, input).expect_err("the input breaks the protocol");
    let code = err.close_code();
    (err, code)
}

pub(crate) fn text(s: &str) -> Event {
    Event::Message(Message::Text(s.into()))
}

// Tornado's `WebSocketMaskTest` (the C and Python `_websocket_mask` share it).

#[test]
fn test_mask() {
    assert_eq!(websocket_mask(b"abcd", b"").unwrap(), b"");
    assert_eq!(websocket_mask(b"abcd", b"b").unwrap(), b"\x03");
    assert_eq!(websocket_mask(b"abcd", b"54321").unwrap(), b"TVPVP");
    assert_eq!(websocket_mask(b"ZXCV", b"98765432").unwrap(), b"c`t`olpd");
    assert_eq!(
        websocket_mask(b"\x00\x01\x02\x03", b"\xff\xfb\xfd\xfc\xfe\xfa").unwrap(),
        b"\xff\xfa\xff\xff\xfe\xfb"
    );
    assert_eq!(
        websocket_mask(b"\xff\xfb\xfd\xfc", b"\x00\x01\x02\x03\xfe\xfa").unwrap(),
        b"\xff\xfa\xff\xff\x01\x01"
    );
}

#[test]
fn test_length_validation() {
    for mask in [&b""[..], b"a", b"ab", b"abc", b"abcde", b"abcdef"] {
        assert!(matches!(
            websocket_mask(mask, b"data"),
            Err(ProtocolError::InvalidMaskLength(n)) if n == mask.len()
        ));
    }
}

#[test]
fn accept_key_rfc_vector() {
    assert_eq!(
        accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

// Decoder rules, each with its close code.

#[test]
fn server_rejects_unmasked_frame() {
    let frame = raw_frame(true, 0, 1, b"hi", None);
    let (err, code) = server_error(&mut server(), &frame);
    assert!(matches!(err, ProtocolError::UnmaskedFrame));
    assert_eq!(code, 1002);
}

#[test]
fn client_rejects_masked_frame() {
    let frame = client_frame(true, 0, 1, b"hi");
    let mut client = Decoder::new(Role::Client, 1024);
    let (err, code) = server_error(&mut client, &frame);
    assert!(matches!(err, ProtocolError::MaskedFrame));
    assert_eq!(code, 1002);
}

#[test]
fn reserved_bits_rejected() {
    // RSV2, RSV3, and RSV1 without an inflater.
    for rsv in [0b010, 0b001, 0b100, 0b111] {
        let (err, code) = server_error(&mut server(), &client_frame(true, rsv, 1, b"x"));
        assert!(matches!(err, ProtocolError::ReservedBits { .. }), "{rsv}");
        assert_eq!(code, 1002);
    }
}

#[test]
fn unknown_opcodes_rejected() {
    for opcode in (3..=7).chain(0xB..=0xF) {
        let (err, code) = server_error(&mut server(), &client_frame(true, 0, opcode, b""));
        assert!(matches!(err, ProtocolError::UnknownOpcode(op) if op == opcode));
        assert_eq!(code, 1002);
    }
}

#[test]
fn control_frame_too_long_rejected() {
    for opcode in [0x8, 0x9, 0xA] {
        let (err, code) = server_error(&mut server(), &client_frame(true, 0, opcode, &[0; 126]));
        assert!(matches!(err, ProtocolError::ControlFrameTooLong(126)));
        assert_eq!(code, 1002);
    }
    let events = decode_all(&mut server(), &client_frame(true, 0, 0x9, &[7; 125])).unwrap();
    assert_eq!(events, [Event::Ping(vec![7; 125])]);
}

#[test]
fn fragmented_control_frame_rejected() {
    let (err, code) = server_error(&mut server(), &client_frame(false, 0, 0x9, b"x"));
    assert!(matches!(err, ProtocolError::FragmentedControlFrame));
    assert_eq!(code, 1002);
}

#[test]
fn continuation_without_message_rejected() {
    let (err, code) = server_error(&mut server(), &client_frame(true, 0, 0, b"x"));
    assert!(matches!(err, ProtocolError::UnexpectedContinuation));
    assert_eq!(code, 1002);
    // Also right after a complete message.
    let mut input = client_frame(true, 0, 1, b"done");
    input.extend(client_frame(true, 0, 0, b"x"));
    let (err, _) = server_error(&mut server(), &input);
    assert!(matches!(err, ProtocolError::UnexpectedContinuation));
}

#[test]
fn new_data_frame_inside_fragmented_message_rejected() {
    for opcode in [1, 2] {
        let mut input = client_frame(false, 0, 1, b"part");
        input.extend(client_frame(true, 0, opcode, b"other"));
        let (err, code) = server_error(&mut server(), &input);
        assert!(matches!(err, ProtocolError::UnfinishedMessage));
        assert_eq!(code, 1002);
    }
}

#[test]
fn length_with_top_bit_rejected() {
    let mut input = vec![0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 5];
    input.extend_from_slice(&MASK);
    let (err, code) = server_error(&mut server(), &input);
    assert!(matches!(err, ProtocolError::InvalidPayloadLength));
    assert_eq!(code, 1002);
}

/// Tornado's `MaxMessageSizeTest`: 1024 bytes accepted, 1025 closed with 1009.
#[test]
fn max_message_size() {
    let events = decode_all(&mut server(), &client_frame(true, 0, 2, &[1; 1024])).unwrap();
    assert_eq!(events, [Event::Message(Message::Binary(vec![1; 1024]))]);
    let (err, code) = server_error(&mut server(), &client_frame(true, 0, 2, &[1; 1025]));
    assert!(matches!(err, ProtocolError::MessageTooBig { max: 1024 }));
    assert_eq!(code, 1009);
}

#[test]
fn size_limit_checked_from_header_before_payload() {
    // Only the header of a 1 GiB frame: refused without a byte of payload.
    let mut header = [0; 14];
    let n = encode_header(
        &mut header,
        true,
        false,
        OpCode::Binary,
        1 << 30,
        Some(MASK),
    );
    let (err, code) = server_error(&mut server(), &header[..n]);
    assert!(matches!(err, ProtocolError::MessageTooBig { .. }));
    assert_eq!(code, 1009);
}

#[test]
fn size_limit_counts_earlier_fragments() {
    let mut input = client_frame(false, 0, 2, &[0; 600]);
    input.extend(client_frame(false, 0, 0, &[0; 400]));
    let mut decoder = server();
    assert_eq!(decode_all(&mut decoder, &input).unwrap(), []);
    // 1000 assembled; the next header announces 25 more.
    let mut header = [0; 14];
    let n = encode_header(
        &mut header,
        true,
        false,
        OpCode::Continuation,
        25,
        Some(MASK),
    );
    let (err, code) = server_error(&mut decoder, &header[..n]);
    assert!(matches!(err, ProtocolError::MessageTooBig { .. }));
    assert_eq!(code, 1009);
}

#[test]
fn invalid_utf8_rejected() {
    let (err, code) = server_error(&mut server(), &client_frame(true, 0, 1, b"ok \xff"));
    assert!(matches!(err, ProtocolError::InvalidUtf8));
    assert_eq!(code, 1007);
}

#[test]
fn invalid_utf8_fails_fast_mid_fragment() {
    // The first fragment holds a bad byte; its frame is not even complete yet.
    let frame = client_frame(false, 0, 1, b"hello \xc0\xaf and more text");
    let mut decoder = server();
    let cut = frame.len() - 10;
    let err = decode_all(&mut decoder, &frame[..cut]).unwrap_err();
    assert!(matches!(err, ProtocolError::InvalidUtf8));
    // And the decoder stays failed.
    assert!(matches!(
        decoder.decode(&frame[cut..]),
        Err(ProtocolError::InvalidUtf8)
    ));
}

#[test]
fn code_point_split_across_fragments_is_fine() {
    let euro = "€".as_bytes(); // e2 82 ac
    let mut input = client_frame(false, 0, 1, &[b'a', euro[0]]);
    input.extend(client_frame(true, 0, 0x9, b"ping"));
    input.extend(client_frame(false, 0, 0, &euro[1..2]));
    input.extend(client_frame(true, 0, 0, &euro[2..]));
    let events = decode_all(&mut server(), &input).unwrap();
    assert_eq!(events, [Event::Ping(b"ping".to_vec()), text("a€")]);
}

#[test]
fn incomplete_code_point_at_message_end_rejected() {
    let (err, code) = server_error(&mut server(), &client_frame(true, 0, 1, b"a\xe2\x82"));
    assert!(matches!(err, ProtocolError::InvalidUtf8));
    assert_eq!(code, 1007);
}

#[test]
fn close_frames() {
    let events = decode_all(&mut server(), &client_frame(true, 0, 0x8, b"")).unwrap();
    assert_eq!(events, [Event::Close(None)]);

    let mut payload = 1000u16.to_be_bytes().to_vec();
    payload.extend_from_slice("bye ✓".as_bytes());
    let events = decode_all(&mut server(), &client_frame(true, 0, 0x8, &payload)).unwrap();
    assert_eq!(
        events,
        [Event::Close(Some(CloseFrame {
            code: 1000,
            reason: "bye ✓".into()
        }))]
    );

    let (err, code) = server_error(&mut server(), &client_frame(true, 0, 0x8, b"\x03"));
    assert!(matches!(err, ProtocolError::InvalidClosePayload));
    assert_eq!(code, 1002);

    for bad in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        let (err, code) = server_error(
            &mut server(),
            &client_frame(true, 0, 0x8, &bad.to_be_bytes()),
        );
        assert!(matches!(err, ProtocolError::InvalidCloseCode(c) if c == bad));
        assert_eq!(code, 1002);
    }
    for good in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 3000, 3999, 4000, 4999,
    ] {
        let events = decode_all(
            &mut server(),
            &client_frame(true, 0, 0x8, &good.to_be_bytes()),
        )
        .unwrap();
        assert_eq!(
            events,
            [Event::Close(Some(CloseFrame {
                code: good,
                reason: String::new()
            }))]
        );
    }

    let (err, code) = server_error(&mut server(), &client_frame(true, 0, 0x8, b"\x03\xe8\xff"));
    assert!(matches!(err, ProtocolError::InvalidCloseReason));
    assert_eq!(code, 1007);
}

// Fragmentation and control frames in between.

#[test]
fn fragmentation_with_pings_between_fragments() {
    let mut input = client_frame(false, 0, 1, b"frag");
    input.extend(client_frame(true, 0, 0x9, b"1"));
    input.extend(client_frame(false, 0, 0, b"men"));
    input.extend(client_frame(true, 0, 0xA, b"2"));
    input.extend(client_frame(true, 0, 0x9, b""));
    input.extend(client_frame(false, 0, 0, b""));
    input.extend(client_frame(true, 0, 0, b"ted"));
    input.extend(client_frame(true, 0, 2, b"\x00\x01"));
    let expected = [
        Event::Ping(b"1".to_vec()),
        Event::Pong(b"2".to_vec()),
        Event::Ping(Vec::new()),
        text("fragmented"),
        Event::Message(Message::Binary(vec![0, 1])),
    ];
    assert_eq!(decode_all(&mut server(), &input).unwrap(), expected);
    assert_eq!(decode_bytewise(&mut server(), &input).unwrap(), expected);
}

/// Every split of `wire` into two pieces (all in the first 400 bytes, then every 97th), and
/// byte by byte, gives the events of the whole; returns them.
pub(crate) fn check_splits(wire: &[u8], make_decoder: impl Fn() -> Decoder) -> Vec<Event> {
    let whole = decode_all(&mut make_decoder(), wire).unwrap();
    assert_eq!(decode_bytewise(&mut make_decoder(), wire).unwrap(), whole);
    for split in (0..wire.len()).step_by(97).chain(0..400.min(wire.len())) {
        let mut decoder = make_decoder();
        let mut events = decode_all(&mut decoder, &wire[..split]).unwrap();
        events.extend(decode_all(&mut decoder, &wire[split..]).unwrap());
        assert_eq!(events, whole, "split at {split}");
    }
    whole
}

/// A stream of every kind of frame, from `encoder`.
pub(crate) fn mixed_stream(encoder: &mut Encoder) -> Vec<u8> {
    let mut wire = Vec::new();
    encoder.encode_text(&mut wire, "first message ✓");
    encoder.encode_ping(&mut wire, b"p").unwrap();
    encoder.encode_binary(&mut wire, &[9; 300]);
    encoder.encode_text(&mut wire, "");
    encoder.encode_binary(
        &mut wire,
        &(0..70_000u32).map(|i| i as u8).collect::<Vec<_>>(),
    );
    encoder
        .encode_close(&mut wire, Some((1001, "going")))
        .unwrap();
    wire
}

#[test]
fn split_input_gives_the_same_events() {
    let wire = mixed_stream(&mut Encoder::new(Role::Client));
    let events = check_splits(&wire, || Decoder::new(Role::Server, 1 << 20));
    assert_eq!(events.len(), 6);
    // Fragmented, with control frames between the fragments.
    let mut wire = client_frame(false, 0, 1, "κό".as_bytes());
    wire.extend(client_frame(true, 0, 0x9, b"between"));
    wire.extend(client_frame(true, 0, 0, "σμε".as_bytes()));
    let events = check_splits(&wire, server);
    assert_eq!(events, [Event::Ping(b"between".to_vec()), text("κόσμε")]);
}

// Round trips.

/// Messages and pongs from an encoder of role `from` to a decoder of the other role, after
/// `setup` (which may set a deflater and an inflater); returns the bytes on the wire.
pub(crate) fn round_trip(from: Role, setup: impl Fn(&mut Encoder, &mut Decoder)) -> usize {
    let to = match from {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    };
    let mut encoder = Encoder::new(from);
    let mut decoder = Decoder::new(to, 1 << 20);
    setup(&mut encoder, &mut decoder);
    let long_text = "All work and no play makes Jack a dull boy. ".repeat(1000);
    let messages = [
        Message::Text("hello".into()),
        Message::Text(long_text.clone()),
        Message::Text(long_text),
        Message::Binary((0..=255).collect()),
        Message::Binary(Vec::new()),
        Message::Text("κόσμε".into()),
    ];
    let mut wire = Vec::new();
    for message in &messages {
        encoder.encode_message(&mut wire, message);
        encoder.encode_pong(&mut wire, b"keepalive").unwrap();
    }
    encoder.encode_close(&mut wire, None).unwrap();
    let mut expected: Vec<Event> = messages
        .iter()
        .flat_map(|m| {
            [
                Event::Message(m.clone()),
                Event::Pong(b"keepalive".to_vec()),
            ]
        })
        .collect();
    expected.push(Event::Close(None));
    assert_eq!(
        decode_all(&mut decoder, &wire).unwrap(),
        expected,
        "{from:?}"
    );
    wire.len()
}

#[test]
fn round_trip_plain() {
    for role in [Role::Client, Role::Server] {
        let wire = round_trip(role, |_, _| {});
        assert!(wire > 88_000, "{wire}");
    }
}

#[test]
fn client_frames_are_masked_with_fresh_keys() {
    let mut encoder = Encoder::new(Role::Client);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    encoder.encode_text(&mut a, "same");
    encoder.encode_text(&mut b, "same");
    assert_eq!(a[1] & 0x80, 0x80);
    assert_ne!(a[2..6], b[2..6], "two frames, one mask");
    let mut server_out = Vec::new();
    Encoder::new(Role::Server).encode_text(&mut server_out, "same");
    assert_eq!(server_out, b"\x81\x04same");
}
