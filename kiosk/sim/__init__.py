"""Simulated devices that ship with the kiosk: camera from images, thermometer, printer to PNG."""
