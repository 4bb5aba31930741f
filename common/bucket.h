/* A token bucket on a caller's clock (seconds): at most `burst` events at
 * once, `rate` a second after that. One implementation for every rate
 * limit that is counted in events (fleetcastd's JOIN answers and its
 * untagged "join again" hints); the sender paces bytes on its own clock. */
#ifndef FC_COMMON_BUCKET_H
#define FC_COMMON_BUCKET_H

struct fc_bucket {
    int primed; /* full from the first take on */
    double tokens, at;
};

/* 1 and one token taken if the bucket has one at `now`, else 0. */
static inline int fc_bucket_take(struct fc_bucket *b, double now, double rate, double burst)
{
    if (!b->primed) {
        b->primed = 1;
        b->tokens = burst;
    } else {
        b->tokens += (now - b->at) * rate;
        if (b->tokens > burst)
            b->tokens = burst;
    }
    b->at = now;
    if (b->tokens < 1)
        return 0;
    b->tokens -= 1;
    return 1;
}

#endif
