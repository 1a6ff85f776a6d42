#!/usr/bin/env bash
# bench/fig/bulk_peak_rss.sh meta|wt|ref - see bench/bulk_fig.py
exec python3 "$(dirname "$0")/../bulk_fig.py" bulk_peak_rss "$@"
