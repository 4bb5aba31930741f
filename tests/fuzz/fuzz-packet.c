/* libFuzzer harness of every packet decoder in proto/. The first input byte
 * picks a decoder from the table, the rest is the packet. Properties: no
 * decoder reads out of bounds or hits undefined behaviour (ASan, UBSan), and
 * whatever a decoder accepts re-encodes to the very same bytes
 * (docs/protocol.md, "Strict decoding"). A new packet type is one PKT() line. */
#include <string.h>

#include "proto/packet.h"
#include "tests/fuzz/fuzz.h"

struct pkt_codec {
    const char *name;
    int (*decode)(const uint8_t *buf, size_t len, struct fc_hdr *h, void *body);
    int (*encode)(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq, const void *body);
};

/* Typed wrappers, so that each decoder and encoder is called through its
 * own prototype (calling through a cast function pointer is undefined). */
#define PKT(x)                                                                                     \
    static int dec_##x(const uint8_t *buf, size_t len, struct fc_hdr *h, void *body)               \
    {                                                                                              \
        return fc_##x##_decode(buf, len, h, body);                                                 \
    }                                                                                              \
    static int enc_##x(uint8_t *buf, size_t cap, uint32_t session, uint32_t seq, const void *body) \
    {                                                                                              \
        return fc_##x##_encode(buf, cap, session, seq, body);                                      \
    }
#define PKT_TYPES(X)                                                                               \
    X(discover)                                                                                    \
    X(announce)                                                                                    \
    X(join)                                                                                        \
    X(join_ack)                                                                                    \
    X(data)                                                                                        \
    X(nak)                                                                                         \
    X(progress)                                                                                    \
    X(done)                                                                                        \
    X(abort)                                                                                       \
    X(manifest_req)                                                                                \
    X(manifest_head)                                                                               \
    X(chunk_req)                                                                                   \
    X(chunk_head)                                                                                  \
    X(cap_hello)                                                                                   \
    X(cap_chunk)                                                                                   \
    X(cap_finish)                                                                                  \
    X(cap_reply)                                                                                   \
    X(hooks_req)                                                                                   \
    X(hooks_head)

PKT_TYPES(PKT)

#define PKT_ENTRY(x) {#x, dec_##x, enc_##x},
static const struct pkt_codec codecs[] = {PKT_TYPES(PKT_ENTRY)};
#define N_CODECS (sizeof(codecs) / sizeof(codecs[0]))

/* Big enough for any decoded body (the largest is NAK's). */
union pkt_body {
    uint8_t bytes[8192];
    uint64_t align;
};

/* An authenticated packet (wire version 2) ends in a tag that decoders only
 * check the presence of and encoders leave zero: the round trip covers
 * everything before it. */
static size_t tag_tail(const uint8_t *in, const uint8_t *out, size_t len)
{
#ifdef FC_TAG_LEN
    size_t i;

    if (len < FC_TAG_LEN || memcmp(in, out, len - FC_TAG_LEN) != 0)
        return 0;
    for (i = len - FC_TAG_LEN; i < len; i++)
        if (out[i])
            return 0;
    return FC_TAG_LEN;
#else
    (void)in, (void)out, (void)len;
    return 0;
#endif
}

static void round_trip(const struct pkt_codec *c, const uint8_t *pkt, size_t len,
                       const struct fc_hdr *h, const union pkt_body *body)
{
    static uint8_t out[FC_PKT_MAX + 64];
    int n = c->encode(out, sizeof(out), h->session, h->seq, body);

    if (n < 0 || (size_t)n != len)
        fprintf(stderr, "%s: decoded %zu bytes, re-encoded to %d\n", c->name, len, n);
    FUZZ_ASSERT(n >= 0 && (size_t)n == len);
    FUZZ_ASSERT(memcmp(out, pkt, len) == 0 || tag_tail(pkt, out, len));
}

/* Seeds: each body encoded by its own encoder, behind the selector byte. */
static void seed(const char *name, const void *body)
{
    uint8_t pkt[1 + FC_PKT_MAX + 64];
    char file[64];
    unsigned i;
    int n;

    for (i = 0; i < N_CODECS; i++)
        if (!strncmp(codecs[i].name, name, strlen(codecs[i].name)) &&
            (name[strlen(codecs[i].name)] == 0 || name[strlen(codecs[i].name)] == '-'))
            break;
    if (i == N_CODECS)
        abort();
    pkt[0] = (uint8_t)i;
    /* capture uploads belong to no session: their session field is 0 */
    n = codecs[i].encode(pkt + 1, sizeof(pkt) - 1, strncmp(name, "cap_", 4) ? 0x1234abcd : 0, 42,
                         body);
    if (n < 0) {
        fprintf(stderr, "seed %s does not encode\n", name);
        exit(1);
    }
    snprintf(file, sizeof(file), "%s.bin", name);
    fuzz_seed(file, pkt, (size_t)n + 1);
}

static void seed_nak(void)
{
    static struct fc_nak n;
    unsigned i;

    memset(&n, 0, sizeof(n));
    n.receiver_id = 3;
    n.seq_seen = 1000;
    n.count = 2;
    n.e[0] = (struct fc_nak_entry){.chunk = 1, .block = 0, .k = 8, .needed = 8};
    n.e[1] = (struct fc_nak_entry){.chunk = 1, .block = 1, .k = 8, .needed = 5, .bitmap_len = 2};
    n.e[1].bitmap[0] = 0x05;
    n.e[1].bitmap[1] = 0x80; /* indices 0, 2 and 15 (parity) held */
    seed("nak", &n);
    n.count = FC_NAK_MAX_ENTRIES; /* the largest: every entry with a full bitmap */
    for (i = 0; i < n.count; i++) {
        n.e[i] = (struct fc_nak_entry){.chunk = i, .k = 200, .needed = 199, .bitmap_len = 32};
        n.e[i].bitmap[31] = 0x40; /* index 254, the last that exists */
    }
    seed("nak-max", &n);
}

static void seed_progress(void)
{
    static struct fc_progress p;

    memset(&p, 0, sizeof(p));
    p.receiver_id = 7;
    p.state = FC_RX_RECEIVING;
    p.chunks_total = 100;
    p.chunks_done = 12;
    p.win_base = 10;
    p.window[0] = 0x0c; /* chunks 12 and 13 */
    p.chunks_done = 12;
    p.seq_seen = 5000;
    p.bytes_written = 12 << 20;
    p.pkts_received = 9000;
    p.pkts_lost = 3;
    seed("progress", &p);
}

static void write_seeds(void)
{
    static const char name[] = "lab-pc-07";
    struct fc_discover dis = {.nonce = 0x0102030405060708ull};
    struct fc_announce ann = {.nonce = 1,
                              .group = {239, 255, 0, 1},
                              .data_port = 9000,
                              .ctrl_port = 7650,
                              .payload_size = 1448,
                              .k_max = 200,
                              .state = FC_SESSION_SENDING};
    struct fc_join join = {
        .nonce = 2, .target_size = 1ull << 33, .chunks_done = 5, .name_len = sizeof(name) - 1};
    struct fc_join_ack ack = {.nonce = 2, .receiver_id = 9, .report_ms = 1000};
    struct fc_join_ack full = {.nonce = 2, .status = FC_REASON_FULL, .report_ms = 1000};
    static uint8_t payload[FC_DATA_MAX_PAYLOAD];
    struct fc_data data = {
        .chunk = 3, .block = 1, .index = 201, .k = 200, .len = 1448, .payload = payload};
    struct fc_data tiny = {
        .chunk = 0, .block = 0, .index = 0, .k = 1, .len = 1, .payload = payload};
    struct fc_done done = {.receiver_id = 9, .flags = FC_DONE_ACK, .bytes_written = 1 << 30};
    struct fc_abort ab = {.receiver_id = 9, .reason = FC_REASON_TOO_SMALL};
    struct fc_manifest_req req = {.image_id = {1, 2, 3}};
    struct fc_manifest_head head = {.status = 0, .length = 4096};
    struct fc_chunk_req creq = {.receiver_id = 9, .chunk = 17};
    struct fc_chunk_head chead = {.status = 0, .chunk = 17, .length = 70000};
    struct fc_cap_hello chello = {
        .token = {7, 7}, .disk_size = 1ull << 30, .chunk_size = 4u << 20, .level = 3};
    struct fc_cap_chunk cchunk = {
        .index = 5, .raw_size = 4u << 20, .comp_size = 123456, .comp_hash = {1}, .raw_hash = {2}};
    struct fc_cap_finish cfin = {.length = 9000};
    struct fc_cap_reply crep = {.status = FC_REASON_OK, .chunks = 40};

    memcpy(join.name, name, sizeof(name));
    memset(payload, 0x5a, sizeof(payload));
    ab.text_len = (uint8_t)snprintf(ab.text, sizeof(ab.text), "target /dev/sda is too small");
    seed("discover", &dis);
    seed("announce", &ann);
    seed("join", &join);
    join.prev_id = 9; /* a re-join: tagged */
    seed("join-rejoin", &join);
    seed("join_ack", &ack);
    seed("join_ack-full", &full);
    seed("data", &data);
    seed("data-tiny", &tiny);
    seed_nak();
    seed_progress();
    seed("done", &done);
    seed("abort", &ab);
    seed("manifest_req", &req);
    seed("manifest_head", &head);
    seed("hooks_req", &req);
    seed("hooks_head", &head);
    seed("chunk_req", &creq);
    seed("chunk_head", &chead);
    seed("cap_hello", &chello);
    seed("cap_chunk", &cchunk);
    seed("cap_finish", &cfin);
    seed("cap_reply", &crep);
    fuzz_seed("empty.bin", "", 0);
    fuzz_seed("header-only.bin", "\x04FLCT\x01\x04\0\0\0\0\0\0\0\0", 15);
}

FUZZ_SEEDS(write_seeds)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct pkt_codec *c;
    static union pkt_body body;
    struct fc_hdr h;
    const uint8_t *pkt;
    size_t len;

    fuzz_quiet();
    if (size < 1)
        return 0;
    c = &codecs[data[0] % N_CODECS];
    len = size - 1;
    /* A copy of exactly len bytes, so ASan sees any read past the packet. */
    pkt = len ? memcpy(malloc(len), data + 1, len) : NULL;
    (void)fc_hdr_decode(pkt, len, &h);
    memset(&body, 0xa5, sizeof(body)); /* a decoder must not rely on a zeroed body */
    memset(&h, 0, sizeof(h));
    if (c->decode(pkt, len, &h, &body) == 0)
        round_trip(c, pkt, len, &h, &body);
    free((void *)pkt);
    return 0;
}
