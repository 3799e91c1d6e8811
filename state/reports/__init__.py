"""Reports that count, never name: anonymous statistics and the charts drawn from them."""
