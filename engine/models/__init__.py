"""Models: implicit neural representations (inr/) and, later, multiscale DEQs (mdeq/)."""
