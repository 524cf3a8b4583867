# Sourced on the GPU device machine, in the repository root a device call runs in (docs/gpu.md, "Repeatable GPU
# runs"): `. bench/gpu-env.sh`, or the copy inside code.tar.xz (/tmp/hf/code/bench/gpu-env.sh). It
#   1. unpacks what the call carried: .gpu/data.tar.xz (call 1) and .gpu/code.tar.xz (call 2) into $HF_DIR
#      (/tmp/hf), each only when it changed; with data alone (call 1) it stops there;
#   2. builds DJL's JNI (libdjl_torch.so) against the machine's torch with CMake, unless a build for this DJL and
#      torch version is cached in $HF_DIR/jni (earlier calls on this warm machine) or carried in .gpu/jni; a fresh
#      build is also written to $OUT as KEY.tar.xz, to be kept in .gpu/jni/ for later calls;
#   2b. builds headfuse's fused kernels (libheadfuse_torch.so, FusedKernels.java) the same way, cached and sent back
#      alike, and exports HEADFUSE_TORCH_KERNELS (off when the build failed); sets FONTCONFIG_FILE for the charts;
#   3. points DJL at torch's libtorch (docs/gpu.md, section 1 B): PYTORCH_LIBRARY_PATH (a folder of links to
#      torch/lib plus the JNI and an unversioned libcudart.so, so that DJL counts the GPUs), PYTORCH_VERSION,
#      PYTORCH_FLAVOR, LD_LIBRARY_PATH (the links break $ORIGIN), DJL_OFFLINE;
#   4. defines HEADFUSE (the CLI: `$HEADFUSE eval ...`, or `eval "$HEADFUSE" ...` as bench scripts do),
#      HEADFUSE_JAVA (java with the class path, for bench mains: `$HEADFUSE_JAVA GpuGradientSmoke ...`) and
#      HF_PPL (transformers' reference perplexity, tools/hf_ppl.py).
# Fails (returns 1, one line naming the problem) when call 2 finds no data: the machine went cold between calls.

_hf_fail() { echo "gpu-env: $*" >&2; return 1; }

# Unpacks .gpu/NAME.tar.xz into $HF_DIR (or $HF_DIR/SUBDIR) unless the same archive was unpacked there already.
_hf_unpack() {
  local name="$1" tarball="${GPU_DIR}/$1.tar.xz" dest="$HF_DIR${2:+/$2}" stamp t0
  [ -f "$tarball" ] || return 0
  stamp="$(cksum < "$tarball")"
  [ "$(cat "$HF_DIR/.$name.stamp" 2>/dev/null)" = "$stamp" ] && return 0
  t0=$SECONDS
  [ "$name" = code ] && rm -rf "$HF_DIR/code"
  mkdir -p "$dest"
  tar -xJf "$tarball" -C "$dest" || { _hf_fail "$tarball: cannot unpack into $dest"; return 1; }
  echo "$stamp" > "$HF_DIR/.$name.stamp"
  echo "gpu-env: unpacked $tarball into $dest ($((SECONDS - t0)) s)" >&2
}

# Builds DJL's pytorch-native JNI against the torch whose cmake files are in $1, into $2 (DJL's build.sh, without
# its libtorch download; the JNI header was made by gpu-stage.sh).
_hf_build_jni() {
  local prefix="$1" dest="$2" src="$HF_DIR/code/djl/engines/pytorch/pytorch-native" build="$HF_DIR/jni-build" t0=$SECONDS
  local log="$HF_DIR/jni-build.log" cuda=0
  [ -f "$src/CMakeLists.txt" ] || { _hf_fail "$src: DJL's pytorch-native sources are missing from code.tar.xz"; return 1; }
  case "$PYTORCH_FLAVOR" in cu*) cuda=1 ;; esac
  echo "gpu-env: building libdjl_torch.so for torch $TORCH_FULL_VERSION (log: $log)" >&2
  rm -rf "$build"
  if ! { JAVA_HOME="$HF_DIR/code/jre" cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
           -DUSE_CUDA="$cuda" -DJAVA_HOME="$HF_DIR/code/jre" \
         && cmake --build "$build" -j "$(nproc)"; } > "$log" 2>&1; then
    tail -25 "$log" >&2
    [ -n "${OUT:-}" ] && cp "$log" "$OUT/jni-build.log"
    _hf_fail "the JNI build against torch $TORCH_FULL_VERSION failed (last lines above)"; return 1
  fi
  mkdir -p "$dest" && cp "$build/libdjl_torch.so" "$dest/"
  echo "gpu-env: built libdjl_torch.so in $((SECONDS - t0)) s" >&2
}

# Builds headfuse's fused kernels (uptrain/src/main/native/headfuse_torch.cpp, see FusedKernels.java) against the
# machine's libtorch into $1. A failure only warns: headfuse then runs its primitive operators.
_hf_build_kernels() {
  local dest="$1" src="$HF_DIR/code/native/headfuse_torch.cpp" log="$HF_DIR/kernels-build.log" inc abi t0=$SECONDS
  [ -f "$src" ] || { echo "gpu-env: warning: $src missing from code.tar.xz; no fused kernels" >&2; return 1; }
  inc="$(dirname "$TORCH_LIB")/include"
  abi="$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')"
  echo "gpu-env: building libheadfuse_torch.so for torch $TORCH_FULL_VERSION (log: $log)" >&2
  mkdir -p "$dest"
  if ! g++ -O2 -std=c++17 -shared -fPIC -D_GLIBCXX_USE_CXX11_ABI="$abi" -DHF_TORCH_VERSION="\"$PYTORCH_VERSION\"" \
       -I"$inc" -I"$inc/torch/csrc/api/include" "$src" -L"$TORCH_LIB" -Wl,-rpath,"$TORCH_LIB" -ltorch -ltorch_cpu -lc10 \
       -o "$dest/libheadfuse_torch.so" > "$log" 2>&1; then
    grep -m 12 -E "error|Error" "$log" >&2
    [ -n "${OUT:-}" ] && cp "$log" "$OUT/kernels-build.log"
    rm -f "$dest/libheadfuse_torch.so"
    echo "gpu-env: warning: the fused kernels did not build against torch $TORCH_FULL_VERSION; primitive operators only" >&2
    return 1
  fi
  echo "gpu-env: built libheadfuse_torch.so in $((SECONDS - t0)) s" >&2
}

_hf_env() {
  HF_DIR="${HF_DIR:-/tmp/hf}"; GPU_DIR="${GPU_DIR:-.gpu}"
  mkdir -p "$HF_DIR"
  _hf_unpack data || return 1
  _hf_unpack code || return 1
  _hf_unpack students patches || return 1   # asym students as patches (bench/gpu/student_patch.py), for bench/gpu-uptrain.sh
  if [ ! -d "$HF_DIR/code" ]; then
    [ -d "$HF_DIR/headfuse-mha-m" ] || { _hf_fail "nothing to unpack: neither $GPU_DIR/data.tar.xz nor $GPU_DIR/code.tar.xz was carried"; return 1; }
    echo "gpu-env: data ready in $HF_DIR (call 1); now run call 2 with code.tar.xz at once, before the machine goes cold" >&2
    return 0
  fi
  [ -d "$HF_DIR/headfuse-mha-m" ] || { _hf_fail "$HF_DIR/headfuse-mha-m is missing: the machine went cold after call 1 (its data lives only while the machine is warm); run call 1 again, then call 2 at once"; return 1; }

  local info site prefix key jni cudart
  info="$(python3 -c 'import os, torch, torch.utils, site
print(torch.__version__); print(os.path.join(os.path.dirname(torch.__file__), "lib")); print(torch.utils.cmake_prefix_path)
print(os.path.dirname(os.path.dirname(torch.__file__)))')" || { _hf_fail "python3 cannot import torch"; return 1; }
  { read -r TORCH_FULL_VERSION; read -r TORCH_LIB; read -r prefix; read -r site; } <<< "$info"
  export PYTORCH_VERSION="${TORCH_FULL_VERSION%%+*}"
  case "$TORCH_FULL_VERSION" in *+*) PYTORCH_FLAVOR="${TORCH_FULL_VERSION#*+}" ;; *) PYTORCH_FLAVOR=cpu ;; esac
  export PYTORCH_FLAVOR

  # The JNI: cached on this machine, else carried in .gpu/jni, else built now (and sent back through $OUT).
  key="djl_torch-$(cat "$HF_DIR/code/djl/VERSION")-torch-${PYTORCH_VERSION}-${PYTORCH_FLAVOR}"
  jni="$HF_DIR/jni/$key"
  if [ ! -f "$jni/libdjl_torch.so" ] && [ -f "$GPU_DIR/jni/$key.tar.xz" ]; then
    mkdir -p "$jni" && tar -xJf "$GPU_DIR/jni/$key.tar.xz" -C "$jni" && echo "gpu-env: JNI from $GPU_DIR/jni/$key.tar.xz" >&2
  fi
  if [ ! -f "$jni/libdjl_torch.so" ]; then
    _hf_build_jni "$prefix" "$jni" || return 1
    [ -n "${OUT:-}" ] && tar -cJf "$OUT/$key.tar.xz" -C "$jni" libdjl_torch.so \
      && echo "gpu-env: JNI sent back as \$OUT/$key.tar.xz: keep it in .gpu/jni/" >&2
  fi

  # The fused kernels, keyed by the source's checksum as well: cached, carried in .gpu/jni, or built now.
  local kkey kdir
  kkey="headfuse_torch-$(cksum < "$HF_DIR/code/native/headfuse_torch.cpp" 2>/dev/null | cut -d' ' -f1)-torch-${PYTORCH_VERSION}-${PYTORCH_FLAVOR}"
  kdir="$HF_DIR/jni/$kkey"
  if [ ! -f "$kdir/libheadfuse_torch.so" ] && [ -f "$GPU_DIR/jni/$kkey.tar.xz" ]; then
    mkdir -p "$kdir" && tar -xJf "$GPU_DIR/jni/$kkey.tar.xz" -C "$kdir" && echo "gpu-env: fused kernels from $GPU_DIR/jni/$kkey.tar.xz" >&2
  fi
  if [ ! -f "$kdir/libheadfuse_torch.so" ] && _hf_build_kernels "$kdir"; then
    [ -n "${OUT:-}" ] && tar -cJf "$OUT/$kkey.tar.xz" -C "$kdir" libheadfuse_torch.so \
      && echo "gpu-env: fused kernels sent back as \$OUT/$kkey.tar.xz: keep it in .gpu/jni/" >&2
  fi
  if [ -f "$kdir/libheadfuse_torch.so" ]; then export HEADFUSE_TORCH_KERNELS="$kdir/libheadfuse_torch.so"
  else export HEADFUSE_TORCH_KERNELS=off; fi

  # Fonts for the charts: the device has no libfontconfig, which Java's font lookup needs unless it is handed a
  # legacy fontconfig.properties (-Dsun.awt.fontconfig) naming the font files: every logical font is DejaVu Sans.
  local fontprops=""
  if [ -f "$HF_DIR/code/fonts/DejaVuSans.ttf" ]; then
    fontprops="$HF_DIR/fontconfig.properties"
    { echo "version=1"
      for f in serif sansserif monospaced dialog dialoginput; do
        for st in plain bold italic bolditalic; do echo "$f.$st.latin-1=DejaVu Sans"; done
      done
      echo "sequence.allfonts=latin-1"
      echo "filename.DejaVu_Sans=$HF_DIR/code/fonts/DejaVuSans.ttf"; } > "$fontprops"
  fi

  # A folder of links: torch/lib, the JNI beside libtorch.so (where DJL looks first), and libcudart.so.
  local links="$HF_DIR/torchlib" nvlibs
  rm -rf "$links"; mkdir -p "$links"
  ln -s "$TORCH_LIB"/* "$links/" && ln -s "$jni/libdjl_torch.so" "$links/libdjl_torch.so"
  nvlibs="$(find "$site/nvidia" -name 'lib*.so*' -printf '%h\n' 2>/dev/null | sort -u | paste -sd:)"
  cudart="$(find "$TORCH_LIB" "$site/nvidia" -name 'libcudart.so.[0-9]*' 2>/dev/null | sort | head -1)"
  if [ -n "$cudart" ]; then ln -s "$cudart" "$links/libcudart.so"
  elif [ "$PYTORCH_FLAVOR" != cpu ]; then echo "gpu-env: warning: no libcudart.so.N found; DJL will count 0 GPUs" >&2; fi
  export PYTORCH_LIBRARY_PATH="$links"
  export LD_LIBRARY_PATH="$links:$TORCH_LIB${nvlibs:+:$nvlibs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export DJL_OFFLINE=true DJL_CACHE_DIR="$HF_DIR/djl-cache"

  local java="$HF_DIR/code/jre/bin/java" cp
  cp="$(ls "$HF_DIR"/code/lib/*.jar | paste -sd:)"
  HEADFUSE_JAVA="$java -Xmx${HEADFUSE_HEAP:-8g} --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow${fontprops:+ -Dsun.awt.fontconfig=$fontprops} -cp $cp"
  HEADFUSE="$HEADFUSE_JAVA io.headfuse.converter.cli.Main"
  HF_PPL="$HF_DIR/tools/hf_ppl.py"
  export HEADFUSE HEADFUSE_JAVA HF_PPL HF_DIR TORCH_FULL_VERSION
  echo "gpu-env: torch $TORCH_FULL_VERSION, JNI $jni, kernels $HEADFUSE_TORCH_KERNELS, java $("$java" -version 2>&1 | head -1)" >&2
}

_hf_env
