"""Jobs written for learning: each one is wrong in a way ``mapreduce check`` names."""
