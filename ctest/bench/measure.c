/* measure: runs a command and prints its CPU time and peak RSS from wait4()'s rusage.
 *
 * usage: measure CMD [ARGS...]     prints "measure user_us=U sys_us=S maxrss_kib=R" on
 *                                  stderr after CMD's own output; exits with CMD's status.
 * Why not the runner's own wait4: Linux carries the RSS high-water mark of the image a
 * process replaced with exec() into its ru_maxrss, so a driver started straight from
 * Python would report Python's size. This small program is that image instead. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid)
        return 2;
    fprintf(stderr, "measure user_us=%ld sys_us=%ld maxrss_kib=%ld\n",
            (long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
            (long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, ru.ru_maxrss);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
