/*
 * testserver.c - a tiny HTTP/1.1 server for the C tests, on 127.0.0.1 in the test's own
 * process: keep-alive, Content-Length bodies. /echo returns the request body, /big 100 000
 * bytes, /fail a 500, /slow answers after 200 ms (and records the most concurrent /slow
 * requests), /stall never answers, anything else "hello\nworld".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testserver.h"


static int server_fd;
int test_server_port;
static int in_flight, max_in_flight;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL); /* a client gone mid-answer is no SIGPIPE */
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void respond(int fd, int status, const char *body, size_t len)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n",
                     status, len);
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

/* big is the /big body, filled once before the first connection is served: connection
 * threads only read it. */
static char big[100000];

static void *serve_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[65536];
    size_t have = 0;
    for (;;) {
        char *end;
        while ((end = memmem(buf, have, "\r\n\r\n", 4)) == NULL) {
            ssize_t r = read(fd, buf + have, sizeof buf - have);
            if (r <= 0)
                goto out;
            have += (size_t)r;
        }
        size_t head_len = (size_t)(end - buf) + 4, body_len = 0;
        char *cl = memmem(buf, head_len, "Content-Length: ", 16);
        if (cl != NULL)
            body_len = strtoul(cl + 16, NULL, 10);
        while (have < head_len + body_len) {
            ssize_t r = read(fd, buf + have, sizeof buf - have);
            if (r <= 0)
                goto out;
            have += (size_t)r;
        }
        char line[512] = "", path[256] = "";
        char *eol = memchr(buf, '\r', head_len);
        size_t line_len = eol != NULL ? (size_t)(eol - buf) : 0;
        memcpy(line, buf, line_len < sizeof line - 1 ? line_len : sizeof line - 1);
        sscanf(line, "%*s %255s", path);
        if (strstr(path, "/echo") != NULL)
            respond(fd, 200, buf + head_len, body_len);
        else if (strstr(path, "/big") != NULL)
            respond(fd, 200, big, sizeof big);
        else if (strstr(path, "/fail") != NULL)
            respond(fd, 500, "boom", 4);
        else if (strstr(path, "/slow") != NULL) {
            /* counts concurrent requests, so that pool limits can be seen from here */
            pthread_mutex_lock(&mu);
            if (++in_flight > max_in_flight)
                max_in_flight = in_flight;
            pthread_mutex_unlock(&mu);
            usleep(200 * 1000);
            pthread_mutex_lock(&mu);
            in_flight--;
            pthread_mutex_unlock(&mu);
            respond(fd, 200, "slow", 4);
        } else if (strstr(path, "/stall") != NULL) {
            sleep(3600); /* accepted and never answered: only the client's timeout ends it */
        }
        else
            respond(fd, 200, "hello\nworld", 11);
        memmove(buf, buf + head_len + body_len, have - head_len - body_len);
        have -= head_len + body_len;
    }
out:
    close(fd);
    return NULL;
}

static void *serve(void *unused)
{
    (void)unused;
    for (;;) {
        int fd = accept(server_fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        /* head and body are two writes: without this, Nagle holds the body until the
         * client's delayed ACK (40 ms per response) */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        pthread_create(&t, NULL, serve_conn, (void *)(intptr_t)fd);
        pthread_detach(t);
    }
}

void test_server_start(void)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server_fd = socket(AF_INET, SOCK_STREAM, 0);
    bind(server_fd, (struct sockaddr *)&a, sizeof a);
    listen(server_fd, 128);
    getsockname(server_fd, (struct sockaddr *)&a, &len);
    test_server_port = ntohs(a.sin_port);
    memset(big, 'b', sizeof big);
    pthread_t t;
    pthread_create(&t, NULL, serve, NULL);
    pthread_detach(t);
}

int test_server_max_in_flight(void)
{
    pthread_mutex_lock(&mu);
    int n = max_in_flight;
    max_in_flight = 0;
    pthread_mutex_unlock(&mu);
    return n;
}
