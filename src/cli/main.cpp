#include <cstdio>

int main() {
  std::puts("acmed: under construction");
  return 0;
}
