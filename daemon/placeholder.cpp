namespace daemon_placeholder {}
