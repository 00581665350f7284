"""The kiosk's touchscreen (Kivy); importing this package loads no Kivy (its modules do)."""
