"""What every layer may use: the project's errors and the reader of validated policy files. Imports nothing of ringscope."""
