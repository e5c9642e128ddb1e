/*
 * testserver.h - the C tests' local HTTP/1.1 server (see testserver.c).
 */
#ifndef HC_TESTSERVER_H
#define HC_TESTSERVER_H

/* The port the server listens on, on 127.0.0.1, once test_server_start returned. */
extern int test_server_port;

/* test_server_start starts the server on a free port, on threads of this process. */
void test_server_start(void);

/* test_server_max_in_flight returns the most /slow requests seen at once, and resets it. */
int test_server_max_in_flight(void);

#endif
