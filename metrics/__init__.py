"""Peace metrics: framework documents in, scores out (see issue 5). No Flask, no SQL."""
