# Sourced by the GPU bench scripts. `peak CMD...` runs CMD while nvidia-smi samples the device memory in use every
# 100 ms, then prints the peak on the script's own stdout, even where CMD's output is redirected (`peak cmd > log`
# sends only CMD's output to the log). Returns CMD's exit status.
exec 3>&1
peak() {
  local log mon rc; log=$(mktemp)
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 > "$log" 2>/dev/null &
  mon=$!
  "$@"; rc=$?
  kill $mon 2>/dev/null; wait $mon 2>/dev/null
  echo "  peak GPU memory (nvidia-smi): $(sort -n "$log" | tail -1) MiB" >&3; rm -f "$log"; return $rc
}
