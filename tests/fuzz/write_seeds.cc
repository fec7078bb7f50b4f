// Writes the request fuzzer's seed corpus (seed_inputs.h) into a directory,
// one file an input: `slussen_fuzz_seeds DIR` (./dev fuzz does).
#include <cctype>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_format.h"
#include "tests/fuzz/seed_inputs.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  int n = 0;
  for (const slussen::fuzz::Seed& seed : slussen::fuzz::SeedInputs()) {
    std::string file = seed.name;
    for (char& c : file) {
      if (!isalnum(static_cast<unsigned char>(c)) && c != '-') c = '_';
    }
    const std::string path = absl::StrFormat("%s/%03d-%s", argv[1], n++, file);
    std::ofstream out(path, std::ios::binary);
    out << seed.input;
    if (!out) {
      fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
  }
  printf("%d seeds in %s\n", n, argv[1]);
  return 0;
}
