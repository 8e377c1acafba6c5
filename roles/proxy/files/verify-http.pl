#!/usr/bin/perl
# A throw-away HTTP server for the proxy role's verify tasks (and test/e2e/squid.test.ts):
# answers every request with "proxy verify ok" on ADDRESS:PORT, and exits after SECONDS
# (default 120). Usage: verify-http.pl ADDRESS PORT [SECONDS]
use strict;
use warnings;
use IO::Socket::INET;

my ($addr, $port, $seconds) = @ARGV;
my $server = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port, Listen => 5, ReuseAddr => 1)
  or die "listen $addr:$port: $!\n";
alarm($seconds || 120);
while (my $client = $server->accept) {
  while (my $line = <$client>) { last if $line =~ /^\r?\n$/ }
  my $body = "proxy verify ok\n";
  print $client "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
  close $client;
}
