// Command otherruntime is a second Go c-shared library for ctest/multi_runtime_test.c:
// loading it beside libhc puts two Go runtimes in one process, which hc_init refuses.
package main

import "C"

//export other_runtime_answer
func other_runtime_answer() C.int { return 42 }

func main() {}
