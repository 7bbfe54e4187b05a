# ~/.bashrc from skel
